// CareTrack: progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Disable a form's submit buttons once it is sent, so a double click sends it once.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.allowResubmit !== undefined) return;
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.disabled = true;
      });
    }, 0);
  });
  // Fetch/JSON requests carry the CSRF token from the page's meta tag.
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.caretrackCsrfToken = meta ? meta.content : "";
})();
