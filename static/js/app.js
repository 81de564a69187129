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
  // Forms that ask first (data-confirm): the Content-Security-Policy allows no inline handler.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-select-on-click]")) target.select();
    if (target.closest && target.closest("[data-print]")) window.print();
  });
  // Category colours come from the data (data-colour), set through the CSSOM, which the
  // policy allows, instead of style attributes, which it refuses.
  document.querySelectorAll("[data-colour]").forEach(function (el) {
    if (/^#[0-9a-fA-F]{3,8}$/.test(el.dataset.colour)) el.style.backgroundColor = el.dataset.colour;
  });
  // Fetch/JSON requests carry the CSRF token from the page's meta tag.
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.caretrackCsrfToken = meta ? meta.content : "";
})();
