// Batch issuance progress: a worker's job issues the batch; this page only reads its status,
// every two seconds, until it is finished, then reloads to list the certificates. Closing the
// page changes nothing. An interrupted batch (its worker died) is resumed by the next worker;
// the 继续签发 button puts it on the queue at once.
(function () {
  "use strict";
  var box = document.getElementById("batch");
  var resume = document.getElementById("batch-resume");
  if (!box || !resume || box.dataset.state === "finished") { return; }
  function show(status) {
    var done = status.issued + status.failed;
    document.getElementById("batch-progress").value = done;
    document.getElementById("batch-done").textContent = done;
    document.getElementById("batch-issued").textContent = status.issued;
    document.getElementById("batch-failed").textContent = status.failed;
  }
  function poll() {
    fetch(box.dataset.statusUrl, {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (status) {
      show(status);
      if (status.finished) { window.location.reload(); return; }
      if (status.state !== box.dataset.state) { window.location.reload(); return; }
      window.setTimeout(poll, 2000);
    }).catch(function () {
      // A web restart or a network blip: the batch carries on regardless; look again later.
      window.setTimeout(poll, 5000);
    });
  }
  if (box.dataset.state === "running") { resume.hidden = true; }
  poll();
}());
