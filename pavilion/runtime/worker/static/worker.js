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
  var finished = false;

  function showQueue(m) {
    if (!m || !m.queue) { return; }
    $("queue-name").textContent = m.queue === "active" ? "On the task" : "Waiting room";
    $("position").textContent = String(m.position);
    $("waiting-count").textContent = String(m.waiting);
    $("active-count").textContent = String(m.active);
    $("earned").textContent = money(m.earned_usd);
  }

  function tick() {
    var left = Math.max(0, Math.ceil((leaveAt - Date.now()) / 1000));
    $("leave-countdown").textContent = String(left);
    $("leave-note").hidden = left === 0;
    $("leave-button").hidden = !(left === 0 && body.dataset.state === "waiting");
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

  function finish() {
    // The session stopped: record the submission, then post the platform's form whatever the answer,
    // because the platform's own record is what pays the worker.
    if (finished) { return; }
    finished = true;
    setState("stopped");
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

  socket.on("connect", function () { notice(""); });
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
    socket.emit("ready");
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
  setInterval(tick, 1000);
  tick();
}());
