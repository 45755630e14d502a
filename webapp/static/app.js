// Layered on top of server-rendered pages; every form works without it.
(function () {
  "use strict";
  // htmx requests carry the CSRF token the page was rendered with.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.getAttribute("content");
    }
  });
})();
