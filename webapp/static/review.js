// Reviewer dashboard, layered on htmx; every form also works as a plain POST.
(function () {
  "use strict";
  // A refused decision comes back with the row re-rendered around the message: 422 (the
  // form did not say enough) or 409 (decided or withdrawn meanwhile: the row then says so
  // and loses its buttons). htmx does not swap error responses unless told to. Any other
  // refusal (an expired form's 400, a 429, a 503) is a message fragment, not a row: it is
  // put at the top of the row's decisions, and the row stays as it was.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var target = event.detail.target;
    if (!xhr || xhr.status < 400 || !target || !target.closest(".review")) {
      return;
    }
    event.detail.isError = false;
    var body = xhr.responseText || "";
    if (/^\s*<tr[\s>]/.test(body)) {
      event.detail.shouldSwap = true;
      return;
    }
    event.detail.shouldSwap = false;
    var holder = document.createElement("div");
    holder.innerHTML = body; // the server's own fragment, its text escaped there
    var message = holder.querySelector(".error-message");
    if (!message) {
      return;
    }
    var cell = target.querySelector(".decisions") || target;
    var earlier = cell.querySelector(".error-message");
    if (earlier) {
      earlier.remove();
    }
    cell.insertBefore(message, cell.firstChild);
  });
})();
