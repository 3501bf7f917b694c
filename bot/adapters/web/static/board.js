// The office TV: render the board state pushed by /board/<token>/events (Server-Sent Events).
// EventSource reconnects by itself after a network drop or a server restart. When the stream is
// closed for good (refused with 503 because too many screens are open, or the server was down for
// long) we poll /state every POLL_MS so the board stays current, and open a new stream after a
// delay that doubles up to MAX_DELAY_MS (with jitter, so refused screens do not return together).
(function () {
  "use strict";
  var base = location.pathname.replace(/\/+$/, "");
  var conn = document.getElementById("conn");
  var FIRST_DELAY_MS = 2000, MAX_DELAY_MS = 60000, POLL_MS = 10000;
  var es = null, retry = null, poller = null, polled = false, delay = FIRST_DELAY_MS;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function render(s) {
    document.getElementById("project").textContent = s.project;
    document.getElementById("date").textContent = s.date + " · 班次 " + s.shift;
    var next = document.getElementById("next");
    next.textContent = s.open ? (s.next || "暂无在岗") : "今天还没开班";
    next.className = "big" + (s.next ? "" : " none");
    document.getElementById("assigned").textContent = s.assigned ? "经理指派：" + s.assigned : "";
    var rec = document.getElementById("receiving");
    rec.replaceChildren(el("div", "title", "正在接待"));
    if (!s.receiving.length) rec.appendChild(el("div", "", "无"));
    s.receiving.forEach(function (r) { rec.appendChild(el("div", "", r.name + " 自 " + r.since)); });
    var phone = document.getElementById("phone");
    phone.replaceChildren();
    if (s.phone_duty_on) {
      phone.appendChild(el("div", "title", "接电话"));
      phone.appendChild(el("div", "", s.phone_duty || "无"));
    }
    var q = document.getElementById("queue");
    q.replaceChildren();
    s.queue.forEach(function (e, i) {
      var li = el("li", e.presence + (e.next ? " next" : ""));
      li.appendChild(el("span", "pos", (i + 1) + "."));
      li.appendChild(el("span", "name", e.name));
      li.appendChild(el("span", "word", e.word));
      li.appendChild(el("span", "meta", "计 " + e.counted + " 次" + (e.since ? " · 自 " + e.since : "")));
      if (e.makeup) li.appendChild(el("span", "makeup", "补接"));
      q.appendChild(li);
    });
    var last = document.getElementById("last");
    last.textContent = s.last ? "最近变更 " + s.last.at + " " + s.last.actor + "：" + s.last.reason +
      (s.last.undone ? "（已撤销）" : "") : "今天还没有变更";
    document.body.dataset.next = s.next || "";
  }

  function status(text, down) {
    conn.textContent = text;
    conn.className = "conn" + (down ? " down" : "");
  }

  function live() {
    delay = FIRST_DELAY_MS;
    polled = false;
    if (poller) { clearInterval(poller); poller = null; }
    status("实时", false);
  }

  function poll() {
    fetch(base + "/state", { cache: "no-store" }).then(function (r) {
      if (r.status === 404) { polled = false; status("链接已失效，请向经理要新链接", true); return null; }
      return r.ok ? r.json() : null;
    }).then(function (s) {
      if (s && !(es && es.readyState === EventSource.OPEN)) { polled = true; render(s); status("定时刷新", false); }
    }).catch(function () { polled = false; status("连接中断，正在重连…", true); });
  }

  function closed() {
    if (es) { es.close(); es = null; }
    if (!poller) { poll(); poller = setInterval(poll, POLL_MS); }
    if (!retry) {
      retry = setTimeout(connect, delay * (0.75 + Math.random() / 2));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }

  function connect() {
    if (retry) { clearTimeout(retry); retry = null; }
    var source = es = new EventSource(base + "/events");
    source.addEventListener("state", function (ev) { live(); render(JSON.parse(ev.data)); });
    source.onopen = live;
    source.onerror = function () {
      if (source !== es) return;
      if (!polled) status("连接中断，正在重连…", true);
      if (source.readyState === EventSource.CLOSED) closed();
    };
  }
  connect();
})();
