/* The private status page: a button that copies the page's link. Without JavaScript the
   button stays hidden and the link is selectable in its read-only field. */
(function () {
  "use strict";

  var field = document.getElementById("status-link");
  var button = document.getElementById("copy-status-link");
  var status = document.getElementById("copy-status");
  if (!field || !button || !status) {
    return;
  }

  function say(message) {
    status.textContent = message;
  }

  function copyBySelection() {
    field.focus();
    field.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    say(copied ? "Link copied." : "Your browser did not allow copying: the link is selected, press Ctrl+C (⌘C on a Mac).");
  }

  button.hidden = false;
  field.addEventListener("focus", function () {
    field.select();
  });
  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () {
        say("Link copied.");
      }, copyBySelection);
    } else {
      copyBySelection();
    }
  });
})();
