// System Backups, on top of htmx: confirmation dialogs that open when loaded and clean up when closed,
// focus after swaps, the import progress bar and size check, the location form's fieldset of the chosen
// kind, and readable messages when the server fails (5xx) or cannot be reached. Without JavaScript the
// page works as plain links and forms.
(function () {
  "use strict";

  var opener = null;  // the Restore/Delete button whose dialog is open: focus returns to it

  function inPage(el) { return el && el.closest && el.closest("[data-backups-page]"); }

  function say(kind, text) {
    var region = document.getElementById("messages");
    if (!region) { return; }
    region.innerHTML = "";
    var box = document.createElement("div");
    box.className = "message message-" + kind;
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    box.textContent = text;
    region.appendChild(box);
    box.focus();
  }

  // ---- dialogs and focus --------------------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dialog-opener]");
    if (button) { opener = button; }
  });

  // Focus after swaps and dialogs that open when loaded: static/js/app.js, for every page.

  // A closed dialog leaves the page, and focus goes back to the button that opened it.
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (!(dialog instanceof HTMLDialogElement) || !dialog.closest("#dialog-slot")) { return; }
    dialog.remove();
    if (opener && document.body.contains(opener)) { opener.focus(); }
  }, true);

  // While a restore or delete is running, Escape does not hide its progress.
  document.addEventListener("cancel", function (event) {
    if (event.target.querySelector && event.target.querySelector(".htmx-request")) { event.preventDefault(); }
  }, true);

  // ---- import: size check and progress -------------------------------------------------------------

  function importParts(form) {
    return {
      input: form.querySelector("input[type=file]"),
      errors: form.querySelector("[data-import-errors]"),
      box: form.querySelector("[data-upload-progress]"),
      bar: form.querySelector("[data-progress-bar]"),
      text: form.querySelector("[data-progress-text]")
    };
  }

  function importError(form, text) {
    var parts = importParts(form);
    parts.errors.innerHTML = "";
    var strong = document.createElement("strong");
    strong.textContent = text;
    parts.errors.appendChild(strong);
    parts.errors.hidden = false;
    parts.box.hidden = true;
    parts.input.setAttribute("aria-invalid", "true");
    parts.input.setAttribute("aria-describedby", "h-file e-file");
    parts.input.focus();
  }

  function megabytes(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("[data-import-form]")) { return; }
    var parts = importParts(form);
    var file = parts.input.files && parts.input.files[0];
    var max = Number(form.getAttribute("data-max-bytes"));
    if (file && max && file.size > max) {
      event.preventDefault();
      importError(form, "“" + file.name + "” is " + megabytes(file.size) + ", larger than the upload limit of " +
        form.getAttribute("data-limit-mb") + " MB. Nothing was uploaded or saved.");
      return;
    }
    parts.errors.hidden = true;
    parts.bar.value = 0;
    parts.text.textContent = file ? "Uploading “" + file.name + "”…" : "Sending…";
    parts.box.hidden = false;
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-import-form]") || !event.detail.lengthComputable) { return; }
    var parts = importParts(form);
    if (parts.bar.value >= 100) { return; }  // the upload is done; later events are the answer arriving
    var percent = Math.min(100, Math.round((event.detail.loaded / event.detail.total) * 100));
    parts.bar.value = percent;
    parts.text.textContent = percent >= 100 ? "Uploaded. Checking the file…" : "Uploading… " + percent + "%";
  });

  // ---- locations: the chosen kind's fieldset alone ------------------------------------------------
  // Without JavaScript every kind's fieldset shows (the server reads the chosen kind's only). Hidden ones
  // are still sent, so what was typed there survives a refused save.

  function showKind(form) {
    var select = form.querySelector("[data-location-kind]");
    if (!select) { return; }
    form.querySelectorAll("fieldset[data-kind]").forEach(function (fieldset) {
      fieldset.hidden = fieldset.getAttribute("data-kind") !== select.value;
    });
  }

  function initLocationForms(root) {
    if (!root || !root.querySelectorAll) { return; }
    if (root.matches && root.matches("[data-location-form]")) { showKind(root); }
    root.querySelectorAll("[data-location-form]").forEach(showKind);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-location-kind]")) { showKind(event.target.form); }
  });
  document.addEventListener("htmx:load", function (event) { initLocationForms(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initLocationForms(document); });
  } else {
    initLocationForms(document);
  }

  // ---- failures -----------------------------------------------------------------------------------

  // The server explains its own failures (a file that is not JSON, one deleted meanwhile, a full disk):
  // show them too, not only the statuses base.html swaps.
  document.addEventListener("htmx:sendError", function (event) {
    var elt = event.detail.elt;
    if (!inPage(elt)) { return; }
    if (elt.matches && elt.matches("[data-import-form]")) {
      importError(elt, "The upload did not reach the server (the connection dropped, or the file is larger than the " +
        "server accepts). Nothing was saved; try again.");
      return;
    }
    say("error", "The server could not be reached, so nothing may have happened. Reload the page to see the current state.");
  });
})();
