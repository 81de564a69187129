// CareTrack: "Copy" buttons beside read-only texts. Without this file the buttons stay hidden
// and the texts can be selected and copied by hand.
(function () {
  "use strict";

  function copied(button) {
    var label = button.textContent;
    button.textContent = button.dataset.copied || label;
    window.setTimeout(function () { button.textContent = label; }, 1500);
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var text = document.getElementById(button.dataset.copy);
    if (!text) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      text.focus();
      text.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text.value).then(function () { copied(button); },
          function () { if (document.execCommand("copy")) copied(button); });
      } else if (document.execCommand("copy")) {
        copied(button);
      }
    });
  });
})();
