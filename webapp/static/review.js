// Reviewer dashboard, layered on htmx; every form also works as a plain POST.
(function () {
  "use strict";
  // A refused decision comes back as 422 with the row re-rendered around the message;
  // htmx does not swap error responses unless told to.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 422 && event.detail.target && event.detail.target.closest(".review")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
