// The office TV: render the board state pushed by /board/<token>/events (Server-Sent Events).
// EventSource reconnects by itself after a network drop or a server restart; if the stream is
// closed for good (e.g. the server was down for long) we open a new one every few seconds.
(function () {
  "use strict";
  var base = location.pathname.replace(/\/+$/, "");
  var conn = document.getElementById("conn");
  var es = null, retry = null;

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

  function status(ok) {
    conn.textContent = ok ? "实时" : "连接中断，正在重连…";
    conn.className = "conn" + (ok ? "" : " down");
  }

  function connect() {
    if (retry) { clearTimeout(retry); retry = null; }
    es = new EventSource(base + "/events");
    es.addEventListener("state", function (ev) { status(true); render(JSON.parse(ev.data)); });
    es.onopen = function () { status(true); };
    es.onerror = function () {
      status(false);
      if (es.readyState === EventSource.CLOSED && !retry) retry = setTimeout(connect, 3000);
    };
  }
  connect();
})();
