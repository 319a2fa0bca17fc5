// Terminal helpers: keyboard and scanner first, no mouse needed.
(function () {
  "use strict";
  // Focus the scan field (or the first autofocus field) on every page load.
  var first = document.querySelector("[autofocus]");
  if (first) { first.focus(); if (first.select) { first.select(); } }

  // A form submits once: a double scan or double press of Enter never sends it twice.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit],button:not([type])").forEach(function (b) {
        b.disabled = true;
      });
    });
  });

  // In a multi-field scan form, Enter in a field moves on to the next empty field.
  document.querySelectorAll("form[data-scan-sequence]").forEach(function (form) {
    var fields = Array.prototype.slice.call(form.querySelectorAll("input:not([type=hidden])"));
    fields.forEach(function (field, index) {
      field.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") { return; }
        var next = fields.slice(index + 1).find(function (f) { return !f.value; });
        if (next) { event.preventDefault(); next.focus(); }
      });
    });
  });

  // An unmistakable sound for each result: high for success, low buzz for an error.
  var result = document.body.dataset.result;
  if (result && window.AudioContext) {
    try {
      var ctx = new AudioContext();
      var osc = ctx.createOscillator();
      osc.type = result === "error" ? "square" : "sine";
      osc.frequency.value = result === "error" ? 180 : 1320;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + (result === "error" ? 0.45 : 0.12));
    } catch (e) { /* no audio device: the colour is the signal */ }
  }
})();
