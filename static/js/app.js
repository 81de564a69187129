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
  // Its text is black on a light colour (white would fall under 4.5:1), white otherwise.
  function luminance(hex) {
    var h = hex.slice(1);
    if (h.length < 6) h = h.split("").map(function (c) { return c + c; }).join("");
    return [0, 2, 4].map(function (i) {
      var c = parseInt(h.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    }).reduce(function (sum, c, i) { return sum + c * [0.2126, 0.7152, 0.0722][i]; }, 0);
  }
  document.querySelectorAll("[data-colour]").forEach(function (el) {
    var colour = el.dataset.colour;
    if (!/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(colour)) return;
    el.style.backgroundColor = colour;
    var light = luminance(colour);
    // Contrast with white: 1.05 / (L + .05); with black: (L + .05) / .05.
    el.classList.toggle("on-light", (light + 0.05) / 0.05 > 1.05 / (light + 0.05));
  });
  // In the Chinese interface a date control also shows its date as text in year-month-day
  // order, whatever order the browser's own control uses (MM/DD/YYYY in an English browser).
  var order = document.body.dataset.dateEcho;
  if (order) {
    document.querySelectorAll('input[type="date"], input[type="datetime-local"]').forEach(function (input) {
      var echo = document.createElement("span");
      echo.className = "form-text date-echo";
      echo.setAttribute("aria-hidden", "true");
      var show = function () { echo.textContent = input.value ? input.value.replace("T", " ") : order; };
      show();
      input.addEventListener("input", show);
      input.addEventListener("change", show);
      input.insertAdjacentElement("afterend", echo);
    });
  }
  // Fetch/JSON requests carry the CSRF token from the page's meta tag.
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.caretrackCsrfToken = meta ? meta.content : "";
})();
