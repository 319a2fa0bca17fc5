// Terminal helpers: keyboard and scanner first, no mouse needed.
(function () {
  "use strict";
  // Focus the scan field (or the first autofocus field) on every page load; a refused form
  // shown again focuses its first invalid field instead (its message, role=alert, is read out).
  var invalid = document.querySelector("form [aria-invalid=true]");
  if (invalid && invalid.matches("fieldset")) { invalid = invalid.querySelector("input, select, textarea"); }
  var first = invalid || document.querySelector("[autofocus]");
  if (first) { first.focus(); if (first.select) { first.select(); } }

  // A form submits once: a double click, double scan or double press of Enter never sends it
  // twice. The button pressed is part of what is sent (理赔成立 or 驳回理赔, 认可理赔 or 提出异议),
  // and a disabled button is left out of the form data, so the buttons are never disabled: the
  // form is marked sent (app.css greys its buttons) and any later submit is cancelled.
  // A form with work to do first (the camera's still) registers it in beforeSend; the form is
  // then sent again from the same button, which requestSubmit keeps (form.submit() drops it).
  var beforeSend = new WeakMap();  // form -> function (send)
  var prepared = null;  // the form being sent again once its work is done
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var prepare = beforeSend.get(form);
      if (!prepare || prepared === form) { return; }
      event.preventDefault();
      var submitter = event.submitter || null;
      prepare(function () {
        // A task later: a form ignores requestSubmit while its submit event is being handled.
        window.setTimeout(function () {
          delete form.dataset.sent;
          prepared = form;
          try { form.requestSubmit(submitter); } finally { prepared = null; }
        }, 0);
      });
    });
  });
  // Back to a page kept in the browser's memory (bfcache): its forms can be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
    });
  });

  // In a multi-field scan form, Enter in a field moves on to the next empty field.
  document.querySelectorAll("form[data-scan-sequence]").forEach(function (form) {
    var fields = Array.prototype.slice.call(form.querySelectorAll("input:not([type=hidden]):not([type=file])"));
    fields.forEach(function (field, index) {
      field.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") { return; }
        var next = fields.slice(index + 1).find(function (f) { return !f.value; });
        if (next) { event.preventDefault(); next.focus(); }
      });
    });
  });

  // A measuring form (every lab form; a set piece's has a section per component) and the
  // consignment form: Enter moves to the next field, filled or not, whatever its kind (a
  // scanner or balance ends its reading with Enter); only Enter in the last field (or on the
  // submit button) sends the form. The fields are counted at each Enter: rows may be added.
  document.querySelectorAll("form[data-enter-next]").forEach(function (form) {
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !event.target.matches("input, select")) { return; }
      var fields = Array.prototype.slice.call(
        form.querySelectorAll("input:not([type=hidden]):not([type=file]), select"));
      var index = fields.indexOf(event.target);
      if (index < 0) { return; }
      event.preventDefault();
      var next = fields[index + 1];
      if (next) { next.focus(); } else { form.requestSubmit(); }
    });
  });

  // A form of rows (the consignment's items): "add a row" (or Alt+N) copies the last row,
  // empty and numbered next, and puts the cursor in its first field. Without a script the
  // button sends the form, which comes back with every typed value and one more row.
  document.querySelectorAll("form[data-rows]").forEach(function (form) {
    var button = form.querySelector("[data-add-row]");
    if (!button) { return; }
    function addRow() {
      var rows = form.querySelectorAll("[data-row]");
      var last = rows[rows.length - 1];
      var n = rows.length + 1;
      var row = last.cloneNode(true);
      var renumber = function (value) { return value.replace(/^rows-\d+-/, "rows-" + n + "-"); };
      row.querySelectorAll("[name], [id], [for]").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          if (el.hasAttribute(attr)) { el.setAttribute(attr, renumber(el.getAttribute(attr))); }
        });
      });
      row.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
      row.querySelectorAll("[aria-invalid]").forEach(function (el) {
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
      });
      row.querySelectorAll("input").forEach(function (el) { el.value = ""; });
      row.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
      row.querySelectorAll("[autofocus]").forEach(function (el) { el.removeAttribute("autofocus"); });
      var legend = row.querySelector("[data-row-number]");
      legend.textContent = legend.textContent.replace(/\d+/, String(n));
      last.after(row);
      row.querySelector("input, select").focus();
    }
    button.addEventListener("click", function (event) { event.preventDefault(); addRow(); });
    form.addEventListener("keydown", function (event) {
      if (event.altKey && (event.key === "n" || event.key === "N" || event.code === "KeyN")) {
        event.preventDefault();
        addRow();
      }
    });
  });

  // Esc leaves a step: a link goes back to the scanner page it came from; a button (the lab
  // preview's 返回修改) is pressed, so what it sends (every typed value) goes with it.
  var escape = document.querySelector("a[data-escape], button[data-escape]");
  if (escape) {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      if (escape.tagName === "A") { window.location.href = escape.href; } else { escape.click(); }
    });
  }

  // An unmistakable sound for each result: a short high beep for success, two mid beeps for
  // "look at this" (already received), a long low buzz for an error. WebAudio, no files.
  var TONES = {
    success: [[1320, 0.12, "sine"]],
    warning: [[660, 0.12, "triangle"], [660, 0.12, "triangle"]],
    error: [[180, 0.5, "square"]]
  };
  var result = document.body.dataset.result;
  var AudioCtx = window.AudioContext || window.webkitAudioContext;
  if (result && TONES[result] && AudioCtx) {
    try {
      var ctx = new AudioCtx();
      var at = ctx.currentTime;
      TONES[result].forEach(function (tone) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.type = tone[2];
        osc.frequency.value = tone[0];
        gain.gain.value = 0.25;
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(at);
        osc.stop(at + tone[1]);
        at += tone[1] + 0.08;
      });
      document.body.dataset.beeped = result;
      if (ctx.state === "suspended") {
        // The browser's autoplay policy held the sound back: play it on the next key press
        // (kiosk terminals run Chromium with --autoplay-policy=no-user-gesture-required).
        document.addEventListener("keydown", function () { ctx.resume(); }, { once: true });
      }
    } catch (e) { /* no audio device: the colour is the signal */ }
  }

  // The terminal's camera: a live preview; F2 takes a still; submitting without a still takes
  // one. The JPEG goes into the form's next empty file input (the intake set has one per view:
  // front, back, stamp, detail), so the upload is an ordinary multipart post (and the file
  // inputs stay as the fallback when there is no camera).
  document.querySelectorAll("form[data-camera-form]").forEach(function (form) {
    var box = form.querySelector("[data-camera]");
    var inputs = box ? Array.prototype.slice.call(box.querySelectorAll("input[type=file]")) : [];
    function nextEmpty() { return inputs.find(function (i) { return !i.files.length; }); }
    if (!box || !inputs.length || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia ||
        !window.DataTransfer) { return; }
    var video = box.querySelector("video");
    var canvas = box.querySelector("canvas");
    var still = box.querySelector("img.still");
    var status = box.querySelector("[data-camera-status]");
    var live = false;

    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        return video.play();
      })
      .then(function () {
        live = true;
        box.dataset.live = "1";
        if (status) { status.textContent = box.dataset.onText || status.textContent; }
        // From now on a submit without a still takes one first, unless the inspector chose
        // the reason no photo could be taken.
        var reason = form.querySelector("[name=no_photo_reason]");
        beforeSend.set(form, function (send) {
          if (!nextEmpty() || (reason && reason.value)) { send(); } else { capture(send); }
        });
      })
      .catch(function () { /* no camera or no permission: the file input remains */ });

    function capture(done) {
      var input = nextEmpty();
      if (!input || !live || video.readyState < 2) { done(false); return; }
      var scale = Math.min(1, 1600 / (video.videoWidth || 1600));
      canvas.width = Math.round((video.videoWidth || 640) * scale);
      canvas.height = Math.round((video.videoHeight || 480) * scale);
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        if (!blob) { done(false); return; }
        var transfer = new DataTransfer();
        transfer.items.add(new File([blob], "camera.jpg", { type: "image/jpeg" }));
        input.files = transfer.files;
        if (still) { still.src = URL.createObjectURL(blob); still.hidden = false; }
        // How many stills the form holds (the intake set takes one per view).
        box.dataset.captured = String(inputs.length - inputs.filter(function (i) {
          return !i.files.length; }).length);
        done(true);
      }, "image/jpeg", 0.85);
    }

    document.addEventListener("keydown", function (event) {
      if (event.key === "F2") { event.preventDefault(); capture(function () {}); }
    });
  });
  // A signed photo on the consumer's page: its route serves only the signed bytes, so a photo
  // that loads is the one signed, and one that does not was replaced or lost.
  document.querySelectorAll("figure[data-photo-check]").forEach(function (figure) {
    var img = figure.querySelector("img");
    function mark(ok) {
      figure.dataset.checked = ok ? "ok" : "bad";
      figure.classList.toggle("altered", !ok);
      figure.querySelector(ok ? "[data-ok]" : "[data-bad]").hidden = false;
      if (!ok) { img.hidden = true; }
    }
    if (img.complete) { mark(img.naturalWidth > 0); return; }
    img.addEventListener("load", function () { mark(true); });
    img.addEventListener("error", function () { mark(false); });
  });
  // Scripts have run: the page's guards are in place (tests wait for this before typing).
  document.documentElement.dataset.ready = "1";
})();
