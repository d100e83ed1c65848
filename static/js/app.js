// Small behaviours on top of htmx: the phone menu, focus after swaps, modal dialogs.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    // Buttons that open a <dialog> by id: data-open-dialog="restore-dialog".
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dialog && dialog.showModal) { dialog.showModal(); }
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var parent = closer.closest("dialog");
      if (parent) { parent.close(); }
    }
  });

  // Close the Settings menu when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.nav-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
    });
  });

  // After a swap, move focus to the first invalid field, or to an element marked data-autofocus, in the
  // new content (the event's target, or the page when an outerHTML swap replaced it), so keyboard and
  // screen reader users land where things changed.
  // A dialog swapped in with data-show-on-load opens instead (and focuses its [autofocus]).
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = (event.target && event.target.isConnected) ? event.target : document;
    var dialog = (root.matches && root.matches("dialog[data-show-on-load]")) ? root
      : root.querySelector("dialog[data-show-on-load]");
    if (dialog && dialog.showModal && !dialog.open) { dialog.showModal(); return; }
    var target = root.querySelector("[aria-invalid=true]") || root.querySelector("[data-autofocus]");
    if (target) {
      target.removeAttribute("data-autofocus");
      if (!target.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  });
})();
