// Live project dashboard: joins the project's room on the /admin namespace and redraws queues, counts and events.
(function () {
  "use strict";
  // Buttons that end something ask first (no inline handlers, so a strict CSP can forbid them).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  var meta = document.querySelector('meta[name="pavilion-project"]');
  if (!meta || typeof io === "undefined") { return; }
  var projectId = parseInt(meta.getAttribute("content"), 10);
  var MAX_EVENTS = 200;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  function setText(id, value) {
    var node = document.getElementById(id);
    if (node) { node.textContent = String(value); }
  }

  var who = {};  // assignment key -> the platform's worker id, filled from the server's replies
  document.querySelectorAll(".queue li[data-worker] .who").forEach(function (span) {
    who[span.parentNode.getAttribute("data-worker")] = span.textContent;
  });
  var presence = {};  // assignment key -> "connected" | "away" (a page open now, or not: within the grace)
  document.querySelectorAll(".queue li[data-worker] .presence").forEach(function (span) {
    presence[span.parentNode.getAttribute("data-worker")] = span.textContent;
  });

  function renderQueue(id, workers, emptyText, withMigrate) {
    var list = document.getElementById(id);
    if (!list) { return; }
    list.replaceChildren();
    if (!workers.length) { list.appendChild(el("li", emptyText, "empty")); return; }
    workers.forEach(function (worker) {
      var item = el("li");
      item.setAttribute("data-worker", worker);
      item.appendChild(el("code", worker));
      item.appendChild(el("span", who[worker] || "", "who"));
      var here = presence[worker] || "away";
      item.appendChild(el("span", here, "presence presence-" + here));
      if (withMigrate) {
        var button = el("button", "Migrate", "small secondary");
        button.type = "submit";
        button.name = "worker_id";
        button.value = worker;
        item.appendChild(button);
      }
      list.appendChild(item);
    });
  }

  function renderStatus(status) {
    var badge = document.getElementById("project-status");
    if (!badge || !status || badge.textContent === status) { return; }
    badge.textContent = status;
    badge.className = "badge badge-" + status;
    var notice = document.getElementById("status-changed");
    if (notice) { notice.hidden = false; }  // the launch / expire / stop buttons were drawn for the old status
  }

  // A forced migration can seat more than max_active: say so rather than hide it.
  function renderOverMax(active, maxActive) {
    var box = document.getElementById("active-box");
    if (maxActive === undefined && box) { maxActive = parseInt(box.getAttribute("data-max-active"), 10); }
    var over = active > maxActive;
    if (box) { box.classList.toggle("over", over); }
    setText("over-count", active);
    var note = document.getElementById("over-max");
    if (note) { note.hidden = !over; }
  }

  var latest = null;

  function renderSnapshot(snap) {
    if (!snap || snap.id !== projectId) { return; }
    if (latest && snap.version < latest.version) { return; }  // a late reply never undoes a newer push
    latest = snap;
    if (snap.workers) { who = snap.workers; }
    var waiting = snap.waiting || [], active = snap.active || [], counts = snap.counts || {};
    renderQueue("waiting-queue", waiting, "nobody waiting", snap.status !== "stopped");  // no migrating then
    renderQueue("active-queue", active, "nobody active", false);
    setText("count-waiting", waiting.length);
    setText("count-active", active.length);
    renderOverMax(active.length, (snap.policy || {}).max_active);
    if (counts.joined !== undefined) { setText("count-joined", counts.joined); }
    if (counts.submitted !== undefined) { setText("count-submitted", counts.submitted); }
    if (counts.returned !== undefined) { setText("count-left", (counts.returned || 0) + (counts.abandoned || 0)); }
    renderStatus(snap.status);
    (snap.events || []).forEach(addEvent);
  }

  var lastEventId = 0;
  document.querySelectorAll("#event-stream tr[data-id]").forEach(function (row) {
    lastEventId = Math.max(lastEventId, parseInt(row.getAttribute("data-id"), 10) || 0);
  });

  function addEvent(e) {
    if (e.id !== undefined && e.id <= lastEventId) { return; }
    if (e.id !== undefined) { lastEventId = e.id; }
    var body = document.getElementById("event-stream");
    if (!body) { return; }
    var row = el("tr");
    if (e.id !== undefined) { row.setAttribute("data-id", e.id); }
    row.appendChild(el("td", Number(e.time_s).toFixed(1), "num"));
    var who = el("td"); who.appendChild(el("code", e.worker)); row.appendChild(who);
    row.appendChild(el("td", e.event));
    row.appendChild(el("td", e.queue));
    row.appendChild(el("td", e.detail, "muted"));
    body.insertBefore(row, body.firstChild);
    while (body.children.length > MAX_EVENTS) { body.removeChild(body.lastChild); }
  }

  // While the socket is down nothing on this page updates: say so, like the workers' page does.
  var banner = document.getElementById("connection-banner");
  function outage(text) {
    if (!banner) { return; }
    if (text) { banner.textContent = text; }
    banner.hidden = !text;
  }

  var fetching = false, again = false;
  function refetch() {  // events after the last shown, platform ids, who is connected: at most one ask in flight
    if (fetching) { again = true; return; }
    fetching = true;
    socket.emit("events", { project_id: projectId, after: lastEventId }, function (reply) {
      fetching = false;
      if (reply && !reply.error) {
        if (reply.workers) { who = reply.workers; }
        if (reply.presence) { presence = reply.presence; }
        if (latest && (reply.workers || reply.presence)) { renderSnapshot(latest); }
        (reply.events || []).forEach(addEvent);
      }
      if (again) { again = false; refetch(); }
    });
  }

  var dot = document.getElementById("live-dot");
  var socket = io("/admin", { transports: ["websocket", "polling"] });
  socket.on("connect", function () {
    if (dot) { dot.classList.add("on"); }
    socket.emit("watch", { project_id: projectId, after: lastEventId }, function (reply) {
      if (reply && reply.error) { outage("This page cannot follow the project: " + reply.error); return; }
      outage("");  // back, and the page shows the project as it is now
      if (reply && reply.presence) { presence = reply.presence; }
      renderSnapshot(reply);
    });
  });
  socket.on("disconnect", function (reason) {
    if (dot) { dot.classList.remove("on"); }
    fetching = false;
    outage(reason === "io server disconnect" ? "The server closed this page's connection: reload the page."
      : "Connection lost, reconnecting… (the queues and events below stop updating until it is back)");
  });
  socket.on("connect_error", function () {
    if (!socket.connected) { outage("Connection lost, reconnecting… (the queues and events below stop updating until it is back)"); }
  });
  // Pushed snapshots carry no events, platform ids or presence: fetch what this page has not shown yet.
  socket.on("snapshot", function (snap) { renderSnapshot(snap); refetch(); });
  socket.on("presence", function (hint) { if (hint && hint.id === projectId) { refetch(); } });
})();
