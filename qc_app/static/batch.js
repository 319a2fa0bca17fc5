// Batch issuance progress: call the step endpoint until nothing is pending, then reload to
// list the certificates. Each call issues for about two seconds on the server.
(function () {
  "use strict";
  var box = document.getElementById("batch");
  if (!box || box.dataset.pending === "0") { return; }
  var failures = 0;
  function show(status) {
    var done = status.issued + status.failed;
    document.getElementById("batch-progress").value = done;
    document.getElementById("batch-done").textContent = done;
    document.getElementById("batch-issued").textContent = status.issued;
    document.getElementById("batch-failed").textContent = status.failed;
  }
  function step() {
    fetch(box.dataset.stepUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": box.dataset.csrf }
    }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (status) {
      failures = 0;
      show(status);
      if (status.pending > 0) { step(); } else { window.location.reload(); }
    }).catch(function () {
      // A worker restart or a network blip: wait and carry on where the batch stands.
      failures += 1;
      if (failures < 5) { window.setTimeout(step, 2000 * failures); }
    });
  }
  step();
}());
