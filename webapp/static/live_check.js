// The live warning is a GET that carries the typed numbers, never the note itself:
// only whether one is written (the check asks no more).
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-live-check]")) {
      return;
    }
    var notes = form.querySelector('[name="notes"]');
    if (notes && notes.value.trim()) {
      event.detail.parameters.note_given = "1";
    }
  });
})();
