// CareTrack: a job's progress bar, fed by its status endpoint every second until the job has
// finished; then the page is loaded again to show what came of it (or, for a job that leads
// on – a roster file's check –, the page it leads to is loaded). Without this file the
// page has a "Refresh" link.
(function () {
  "use strict";

  function show(box, status) {
    var bar = box.querySelector("[data-job-bar]");
    bar.value = status.percent;
    bar.textContent = status.percent + " %";
    box.querySelector("[data-job-state]").textContent = status.state_label;
    box.querySelector("[data-job-stage]").textContent = status.stage;
    var count = box.querySelector("[data-job-count]");
    count.textContent = status.total ? status.done + " / " + status.total : "";
  }

  function poll(box) {
    fetch(box.dataset.jobStatus, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) return;
        show(box, status);
        if (status.finished && status.follow && status.next_url) {
          window.location.assign(status.next_url);
        } else if (status.finished) {
          window.location.reload();
        } else {
          window.setTimeout(function () { poll(box); }, 1000);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, 5000); });
  }

  document.querySelectorAll("[data-job-status]").forEach(function (box) {
    window.setTimeout(function () { poll(box); }, 500);
  });
})();
