// Draws the dashboard's charts from the JSON beside them; each chart has a table too.
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || typeof Chart === "undefined") return;
  var data = JSON.parse(node.textContent);
  var palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997", "#6c757d"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function bar(id, set, colours, horizontal) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, {
      type: "bar",
      data: { labels: set.labels, datasets: [{ label: data.studentsLabel, data: set.values,
              backgroundColor: colours || palette }] },
      options: { indexAxis: horizontal ? "y" : "x", plugins: { legend: { display: false } },
                 scales: { x: { ticks: { precision: 0 } }, y: { ticks: { precision: 0 } } } }
    });
  }
  bar("chart-category", data.category, data.category.colours, true);
  bar("chart-programme", data.programme);
  bar("chart-concern", data.concern, ["#6c757d", "#ffc107", "#dc3545"]);
  bar("chart-overdue", data.overdue, ["#dc3545"], true);
  bar("chart-referrals", data.referrals, ["#0d6efd"]);

  var activity = document.getElementById("chart-activity");
  if (activity) {
    // Today is not over: its point is hollow and only a faint dotted line leads to it, so it
    // reads as "so far", not as a fall.
    var partial = data.activity.partialIndex;
    var isPartial = function (index) { return partial !== null && index === partial; };
    new Chart(activity, {
      type: "line",
      data: { labels: data.activity.labels, datasets: data.activity.series.map(function (s, i) {
        return { label: s.label, data: s.values, borderColor: palette[i], backgroundColor: palette[i],
                 tension: 0.25,
                 pointRadius: s.values.map(function (_, j) { return isPartial(j) ? 4 : 2; }),
                 pointBackgroundColor: s.values.map(function (_, j) { return isPartial(j) ? "#fff" : palette[i]; }),
                 segment: {
                   borderDash: function (ctx) { return isPartial(ctx.p1DataIndex) ? [2, 6] : undefined; },
                   borderColor: function (ctx) { return isPartial(ctx.p1DataIndex) ? palette[i] + "40" : undefined; }
                 } };
      }) },
      options: { interaction: { mode: "index", intersect: false },
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
})();
