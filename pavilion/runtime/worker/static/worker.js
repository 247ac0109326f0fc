/* The worker's live page: the /worker socket, heartbeats, the waiting room, the task, and submitting at the end.
   Pay shown here always comes from the server's `queue` messages; the browser only counts down elapsed time. */
(function () {
  "use strict";
  var HEARTBEAT_MS = 5000;
  var LEAVE_ACK_MS = 5000;
  var body = document.body;
  var tokenMeta = document.querySelector('meta[name="pavilion-token"]');
  if (!tokenMeta) { return; }

  function $(id) { return document.getElementById(id); }
  function setState(state) { body.dataset.state = state; }
  function notice(text) { var n = $("notice"); n.textContent = text || ""; n.hidden = !text; }
  function money(value) { return "$" + Number(value || 0).toFixed(2); }

  var leaveAt = Date.now() + Number(body.dataset.leaveIn || 0) * 1000;
  var joinedAt = Date.now() - Number(body.dataset.waited || 0) * 1000;  // the server's count, carried on here
  var finished = false;

  function showQueue(m) {
    if (!m || !m.queue) { return; }
    $("queue-name").textContent = m.queue === "active" ? "On the task" : "Waiting room";
    $("position-label").textContent = m.queue === "active" ? "your seat on the task" : "your place in the waiting queue";
    $("position").textContent = String(m.position);
    $("waiting-count").textContent = String(m.waiting);
    $("active-count").textContent = String(m.active);
    $("earned").textContent = money(m.earned_usd);
    $("start-note").hidden = !(m.needed > 0);
    if (m.needed > 0) {
      $("start-at").textContent = String(m.start_at);
      $("needed").textContent = String(m.needed);
    }
  }

  function minutes(seconds) {
    if (seconds >= 60) {
      var n = Math.ceil(seconds / 60);
      return n + (n === 1 ? " minute" : " minutes");
    }
    return seconds + (seconds === 1 ? " second" : " seconds");
  }

  function tick() {
    var left = Math.max(0, Math.ceil((leaveAt - Date.now()) / 1000));
    $("leave-countdown").textContent = minutes(left);
    $("leave-note").hidden = left === 0;
    $("leave-button").hidden = !(left === 0 && body.dataset.state === "waiting");
    if (body.dataset.state === "waiting") {
      var waited = Math.max(0, Math.floor((Date.now() - joinedAt) / 1000));
      $("waited").textContent = Math.floor(waited / 60) + " min " + (waited % 60) + " s";
    }
  }

  // ---- noticing a promotion: the tab title, a sound the worker switched on, a desktop notification ----------
  var audio = null;
  var baseTitle = document.title;
  var flashing = null;

  function beep() {
    if (!audio) { return; }
    var start = audio.currentTime;
    [0, 0.3].forEach(function (at) {  // two short tones, no sound file needed
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.25, start + at);
      gain.gain.exponentialRampToValueAtTime(0.001, start + at + 0.25);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(start + at);
      osc.stop(start + at + 0.25);
    });
    body.dataset.beeped = String(Number(body.dataset.beeped || 0) + 1);
  }

  function enableAlerts() {
    // Browsers allow sound only after a gesture on the page: this click is it.
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) { audio = new Ctx(); }
    if (audio && audio.state === "suspended") { audio.resume(); }
    beep();  // the worker hears what to listen for
    if ("Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().then(showAlertStatus);
    }
    $("sound-button").textContent = "Sound is on (test it again)";
    showAlertStatus();
  }

  function showAlertStatus() {
    var parts = [audio ? "Sound on." : "Sound not available in this browser."];
    if ("Notification" in window) {
      parts.push(Notification.permission === "granted" ? "Desktop notification on." :
        Notification.permission === "denied" ? "Desktop notifications are blocked for this site." : "");
    }
    $("alert-status").textContent = parts.join(" ").trim();
  }

  function looking() { return document.visibilityState === "visible" && document.hasFocus(); }

  function stopFlashing() {
    if (flashing !== null && looking()) {
      clearInterval(flashing);
      flashing = null;
      document.title = baseTitle;
    }
  }

  function announce() {
    var turn = "Your turn! The task is open";
    if (flashing === null) {
      var on = false;
      document.title = turn;
      flashing = setInterval(function () { on = !on; document.title = on ? baseTitle : turn; }, 1000);
    }
    beep();
    if ("Notification" in window && Notification.permission === "granted" && !looking()) {
      try {
        var note = new Notification(turn, { body: baseTitle, tag: "pavilion-promoted" });
        note.onclick = function () { window.focus(); note.close(); };
      } catch (e) { /* some browsers allow notifications only from a service worker */ }
    }
  }

  // `ready` says the worker is looking at the task: sent once per promotion, when the page is visible and focused.
  var readyDue = false;
  function sendReadyIfLooking() {
    stopFlashing();
    if (readyDue && looking() && socket.connected) {
      readyDue = false;
      socket.emit("ready");
      body.dataset.ready = "sent";
    }
  }

  function showTask(url) {
    var frame = $("task-frame");
    var demo = $("demo-task");
    if (url) {
      if (demo) { demo.remove(); }
      if (frame && frame.getAttribute("src") !== url) { frame.setAttribute("src", url); }
    } else if (frame) {
      frame.remove();  // no content of the project's own: the built-in demo task stays
    }
    setState("active");
  }

  function postSubmitForm() {
    var form = $("submit-form");
    if ((form.getAttribute("method") || "GET").toUpperCase() === "GET") {
      // A GET form would drop the target's own query string (e.g. a completion code): build the address instead.
      var url = new URL(form.getAttribute("action"), window.location.href);
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name) { url.searchParams.set(el.name, el.value); }
      });
      window.location.assign(url.toString());
    } else {
      form.submit();
    }
  }

  if (body.dataset.state === "rejected" || body.dataset.left) {
    // The stint is over: nothing to connect to; the worker may still reach the platform's submit page.
    $("submit-now").addEventListener("click", postSubmitForm);
    if (body.dataset.state === "stopped" && body.dataset.left !== "submitted") { $("submit-now").hidden = true; }
    return;
  }

  var socket = io("/worker", { auth: { token: tokenMeta.content } });

  function leave(how, then) {
    socket.timeout(LEAVE_ACK_MS).emit("leave", { how: how }, function (err, reply) {
      then(!err && reply && reply.ok, err ? "the server did not answer; please try again" : reply && reply.error);
    });
  }

  function finish(m) {
    // The session stopped: record the submission, then post the platform's form whatever the answer,
    // because the platform's own record is what pays the worker. `submitted`: the task already reported
    // this worker done (POST /task/<id>/done), so the submission is recorded and only the form is left.
    if (finished) { return; }
    finished = true;
    setState("stopped");
    if (m && m.submitted) { postSubmitForm(); return; }
    leave("submitted", function () { postSubmitForm(); });
  }

  function submitWork(button) {
    button.disabled = true;
    leave("submitted", function (ok, error) {
      if (ok) {
        finished = true;
        setState("stopped");
        $("stopped-title").textContent = "Thank you";
        $("stopped-message").textContent = "Your work is submitted.";
        postSubmitForm();
      } else {
        button.disabled = false;
        notice(error || "could not submit; please try again");
      }
    });
  }

  socket.on("connect", function () { notice(""); sendReadyIfLooking(); });
  socket.on("connect_error", function (err) {
    if (socket.active) {  // the network or the server is away for now: the client retries by itself
      notice("Cannot reach the server; retrying...");
    } else {  // refused by the server (a bad or expired link, a stint that has ended): no retry
      notice(err && err.message ? err.message : "the server refused the connection");
      setState("error");
    }
  });
  socket.on("disconnect", function () { if (!finished) { notice("Connection lost; reconnecting..."); } });
  socket.on("queue", showQueue);
  socket.on("promoted", function (m) {
    showTask(m && m.url);
    announce();
    readyDue = true;
    sendReadyIfLooking();
  });
  socket.on("left", function (m) {
    // The platform reports that this stint ended (a return, a time-out): pay stops; say why.
    var how = m && m.how;
    var why = {
      returned: "The platform reports that you returned this task, so your place here has ended.",
      abandoned: "The platform reports that your time for this task ran out, so your place here has ended.",
      submitted: "The platform reports that this task was submitted, so your place here has ended."
    };
    finished = true;
    clearInterval(payTimer);
    setState("stopped");
    $("stopped-title").textContent = "You have left this session";
    $("stopped-message").textContent = why[how] || "The platform reports that your place here has ended.";
    $("left-message").textContent = how === "submitted" ? "" :
      "Pay stopped counting at " + $("earned").textContent + "; only submitted work is paid.";
    $("left-message").hidden = how === "submitted";
    $("submit-now").hidden = true;
    body.dataset.left = how || "left";
    socket.disconnect();
  });
  socket.on("stop", finish);
  socket.on("rejected", function (m) {
    finished = true;
    setState("rejected");
    var reasons = {
      stopped: "Sorry, this session has ended. Please return this task.",
      abandoned: "This page was away too long and its place was given up. Please return this task."
    };
    if (m && reasons[m.reason]) { $("rejected-message").textContent = reasons[m.reason]; }
    socket.disconnect();
  });
  socket.on("error", function (m) { notice(m && m.message); });

  $("leave-button").addEventListener("click", function () { submitWork($("leave-button")); });
  $("sound-button").addEventListener("click", enableAlerts);
  document.addEventListener("visibilitychange", sendReadyIfLooking);
  window.addEventListener("focus", sendReadyIfLooking);
  $("submit-button").addEventListener("click", function () { submitWork($("submit-button")); });
  $("submit-now").addEventListener("click", postSubmitForm);
  window.addEventListener("message", function (event) {
    // The project's own task may say it is done: window.parent.postMessage({pavilion: "submit"}, "*").
    var frame = $("task-frame");
    if (frame && event.source === frame.contentWindow && event.data && event.data.pavilion === "submit") {
      submitWork($("submit-button"));
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll(".demo-item"), function (item) {
    item.addEventListener("click", function (event) {
      var choice = event.target.closest("button[data-label]");
      if (!choice) { return; }
      item.querySelectorAll("button").forEach(function (b) { b.classList.toggle("chosen", b === choice); });
      $("demo-done").textContent = String(document.querySelectorAll(".demo-item button.chosen").length);
    });
  });

  if (body.dataset.state === "active") { showTask(body.dataset.taskUrl); }
  setInterval(function () { if (socket.connected && !finished) { socket.emit("heartbeat"); } }, HEARTBEAT_MS);
  var payTimer = setInterval(tick, 1000);
  tick();
  if ("Notification" in window && Notification.permission === "granted") { showAlertStatus(); }
}());
