// CareTrack: the notices' progress bars take their width from data-width (the page's
// Content-Security-Policy allows no inline styles); the audience form shows only the choice
// that belongs to the picked audience.
(function () {
  "use strict";
  document.querySelectorAll("[data-width]").forEach(function (bar) {
    bar.style.width = bar.dataset.width + "%";
  });
  var radios = document.querySelectorAll("input[name=audience]");
  function show() {
    var picked = document.querySelector("input[name=audience]:checked");
    document.querySelectorAll("[data-audience-part]").forEach(function (part) {
      part.hidden = !picked || part.dataset.audiencePart !== picked.value;
    });
  }
  radios.forEach(function (radio) { radio.addEventListener("change", show); });
  if (radios.length) show();
})();
