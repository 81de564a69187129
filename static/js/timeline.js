// CareTrack: the student page and its forms. Every form works without this file.
(function () {
  "use strict";

  // Filters that apply as soon as they change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Follow-up: "check again in N days" follows "reached or not" until the user types in it.
  var days = document.getElementById("check_again_in_days");
  if (days) {
    var suggestion = function (reached) {
      return days.dataset[reached ? "suggestReached" : "suggestNotReached"] || "";
    };
    document.querySelectorAll("input[name=reached]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var reached = radio.value === "1";
        if (days.value === "" || days.value === suggestion(!reached)) {
          days.value = suggestion(reached);
        }
        var health = document.querySelector("input[name=health]:checked");
        var swap = reached ? ["unknown", "normal"] : ["normal", "unknown"];
        if (health && health.value === swap[0]) {
          var other = document.querySelector("input[name=health][value=" + swap[1] + "]");
          if (other) other.checked = true;
        }
      });
    });
  }

  // Supply delivery: add item lines beyond the ones the page started with.
  var add = document.querySelector("[data-add-line]");
  if (add) {
    add.classList.remove("d-none");
    add.addEventListener("click", function () {
      var lines = document.querySelectorAll("#delivery-items .item-line");
      if (lines.length >= Number(add.dataset.max || 20)) return;
      var copy = lines[lines.length - 1].cloneNode(true);
      var index = lines.length;
      copy.querySelectorAll("input, label").forEach(function (el) {
        ["id", "name", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/items-\d+-/, "items-" + index + "-"));
        });
        if (el.tagName === "INPUT") { el.value = ""; el.classList.remove("is-invalid"); }
      });
      copy.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
      lines[lines.length - 1].after(copy);
      copy.querySelector("input").focus();
    });
  }
})();
