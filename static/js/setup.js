// /setup/restore, on top of htmx: the key and passphrase fields open when the chosen file is encrypted
// (a .json.age upload, or a listed file marked encrypted). Without JavaScript they are a <details> to open.
(function () {
  "use strict";

  function keysOf(el) {
    var form = el.closest("form");
    return form && form.querySelector("[data-restore-keys]");
  }

  function encrypted(el) {
    if (el.matches("[data-backup-file]")) {
      var file = el.files && el.files[0];
      return !!file && /\.age$/i.test(file.name);
    }
    return el.matches("input[type=radio][data-encrypted]:checked");
  }

  function openFor(el) {
    var keys = keysOf(el);
    if (keys && encrypted(el)) { keys.open = true; }
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-backup-file], .restore-file-choice input[type=radio]")) { openFor(el); }
  });

  document.addEventListener("htmx:load", function (event) {
    event.target.querySelectorAll(".restore-file-choice input[type=radio]:checked").forEach(openFor);
  });
})();
