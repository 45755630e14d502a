// Layered on top of server-rendered pages; every form works without it.
(function () {
  "use strict";
  // A form sent back with errors: its summary of them takes the focus, so a screen
  // reader reads it and the keyboard starts from its links (each goes to its field).
  function focusErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (summary && !summary.closest("[hidden]")) {
      summary.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrorSummary);
  } else {
    focusErrorSummary();
  }
  // htmx requests carry the CSRF token the page was rendered with.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.getAttribute("content");
    }
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form[data-catalog-filters]")) {
      dropUnusedFilters(form, event.detail.formData);
    }
  });

  // The catalog's address carries only the filters in use (the server redirects any
  // other spelling): empty fields and a select's default value are left out.
  function dropUnusedFilters(form, data) {
    if (!data) {
      return;
    }
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name) {
        return;
      }
      var value = data.get(field.name);
      if (value === null) {
        return;
      }
      if (value === "" || (field.dataset.default && value === field.dataset.default)) {
        data.delete(field.name);
      }
    });
  }

  // Catalog filters apply on change, but a select stepped through with the keyboard
  // (each arrow key is a change in Chromium) applies only on Enter or when focus leaves
  // it: one request and one history entry, not one per option passed. Text search
  // applies on Enter (the form's submit).
  function catalogFilters(form) {
    var pending = null;
    function apply() {
      pending = null;
      if (window.htmx) {
        window.htmx.trigger(form, "catalog-change");
      } else {
        form.requestSubmit();
      }
    }
    form.addEventListener("keydown", function (event) {
      var field = event.target;
      if (field.tagName !== "SELECT") {
        return;
      }
      if (event.key === "Enter") {
        event.preventDefault();
        if (pending === field) {
          apply();
        }
      } else if (event.key !== "Tab" && event.key !== "Shift") {
        field.dataset.keyboard = "1";
      }
    });
    form.addEventListener("mousedown", function (event) {
      if (event.target.dataset) {
        delete event.target.dataset.keyboard;
      }
    });
    form.addEventListener("change", function (event) {
      var field = event.target;
      if (field.type === "search" || field.type === "text") {
        return;
      }
      if (field.tagName === "SELECT" && field.dataset.keyboard === "1") {
        pending = field;
        return;
      }
      apply();
    });
    form.addEventListener("focusout", function (event) {
      var field = event.target;
      if (field.dataset) {
        delete field.dataset.keyboard;
      }
      if (pending === field) {
        apply();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-catalog-filters]");
    Array.prototype.forEach.call(forms, catalogFilters);
    backToTheCatalogAsItWas();
  });

  // "Back to the catalog" from a comparison goes back to the catalog page it came from,
  // its filters and page kept (the page is shared by every visitor, so the server
  // cannot write the visitor's own address into it); the ticks stay with the browser's
  // own Back.
  function backToTheCatalogAsItWas() {
    var links = document.querySelectorAll("a[data-back-to-catalog]");
    if (!links.length || !document.referrer) {
      return;
    }
    var came;
    try {
      came = new URL(document.referrer);
    } catch (error) {
      return;
    }
    var catalog = new URL(links[0].href);
    if (came.origin !== catalog.origin || came.pathname !== catalog.pathname) {
      return;
    }
    Array.prototype.forEach.call(links, function (link) {
      link.href = came.pathname + came.search;
    });
  }

  // The catalog's results, swapped in place: the pager's status ("26–50 of 386 rows")
  // is read out from a live region that stays on the page (one replaced with the
  // results is not), and a page asked for from the pager takes the focus to the new
  // results' top, where reading resumes (it fell to the body, at the page's foot).
  // A filter changed in the form keeps the focus where it is.
  document.addEventListener("htmx:afterSwap", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    var results = document.getElementById("catalog-results");
    if (!results || !source || !source.closest ||
        !source.closest('[hx-target="#catalog-results"]')) {
      return;
    }
    var status = results.querySelector(".pager-status");
    var announce = document.getElementById("catalog-announce");
    if (announce) {
      announce.textContent = status ? status.textContent : "";
    }
    if (source.closest(".pager")) {
      results.setAttribute("tabindex", "-1");
      results.focus({preventScroll: true});
      results.scrollIntoView({block: "start"});
    }
  });
})();
