// Batch issuance progress: call the step endpoint until the batch is finished, then reload to
// list the certificates. Each call issues for about two seconds on the server. An interrupted
// batch is not resumed behind the inspector's back: its page offers the 继续签发 button.
(function () {
  "use strict";
  var box = document.getElementById("batch");
  var resume = document.getElementById("batch-resume");
  if (!box || !resume || box.dataset.state !== "running") { return; }
  resume.hidden = true;
  var failures = 0;
  function show(status) {
    var done = status.issued + status.failed;
    document.getElementById("batch-progress").value = done;
    document.getElementById("batch-done").textContent = done;
    document.getElementById("batch-issued").textContent = status.issued;
    document.getElementById("batch-failed").textContent = status.failed;
  }
  function interrupted() {
    document.getElementById("batch-state").textContent = box.dataset.interrupted;
    resume.hidden = false;
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
      if (status.finished) { window.location.reload(); }
      // Another step (a second tab, the CLI) is issuing for this batch: follow its progress.
      else if (status.busy) { window.setTimeout(step, 2000); }
      else { step(); }
    }).catch(function () {
      // A worker restart or a network blip: wait and carry on where the batch stands.
      failures += 1;
      if (failures < 5) { window.setTimeout(step, 2000 * failures); } else { interrupted(); }
    });
  }
  step();
}());
