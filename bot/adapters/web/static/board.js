// The office TV (and a phone): render the board state pushed by /board/<token>/events (Server-Sent
// Events). EventSource reconnects by itself after a network drop or a server restart. When the stream
// is closed for good (refused with 503 because too many screens are open, or the server was down for
// long) we poll /state every POLL_MS and open a new stream after a delay that doubles up to
// MAX_DELAY_MS (with jitter, so refused screens do not return together).
// The server sends a `tick` every few seconds: with no word for STALE_MS the queue dims and the page
// says since when it is out of date. A reset link (`gone`, or /state answering 404) blanks the page.
(function () {
  "use strict";
  var base = location.pathname.replace(/\/+$/, "");
  var conn = document.getElementById("conn");
  var FIRST_DELAY_MS = 2000, MAX_DELAY_MS = 60000, POLL_MS = 10000, STALE_MS = 10000;
  var GONE = "链接已更换，请向经理要新链接";
  var es = null, retry = null, poller = null, polled = false, delay = FIRST_DELAY_MS, stopped = false;
  var heard = 0, offsetMin = 480, skew = 0, state = null;     // skew: the server's clock minus this one

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function hhmm(ms, seconds) {      // the project's wall time (its UTC offset comes with the state)
    var iso = new Date(ms + skew + offsetMin * 60000).toISOString();
    return iso.slice(11, seconds ? 19 : 16);
  }

  function fit(e, least) {    // a long name: smaller until it fits (not under `least` px), never cut
    e.style.fontSize = "";
    if (e.scrollWidth <= e.clientWidth + 1) return;
    var size = parseFloat(getComputedStyle(e).fontSize);
    while (e.scrollWidth > e.clientWidth + 1 && size * 0.96 >= (least || 12)) {
      size *= 0.96;
      e.style.fontSize = size + "px";
    }
  }

  function hero(s) {
    var next = document.getElementById("next"), label = document.getElementById("next-label");
    var text = s.phase === "after" ? "已下班" : s.phase === "before" ? "今天还没开班" : (s.next || "暂无在岗");
    var byManager = s.assigned && s.assigned === s.next;
    label.textContent = s.phase === "open" ? "下一位" + (byManager ? "（经理指派）" : "") : "班次 " + s.shift;
    next.textContent = text;
    next.className = "big" + (s.phase === "open" && s.next ? "" : " none");
    document.getElementById("second").textContent = s.second ? "第二位 " + s.second : "";
    document.getElementById("assigned").textContent = s.assigned && !byManager ? "经理指派：" + s.assigned : "";
  }

  function side(s) {
    var t = document.getElementById("totals"), words = [["来访", "visitors"], ["接待", "receptions"],
      ["登记", "registrations"], ["成交", "deals"]];
    t.replaceChildren();
    words.forEach(function (w) {
      var d = el("div", "total");
      d.appendChild(el("dt", "", w[0]));
      d.appendChild(el("dd", "", String(s.totals[w[1]])));
      t.appendChild(d);
    });
    document.getElementById("receiving").textContent = s.receiving.length ? "正在接待 " + s.receiving.length + " 位" : "";
    var phone = document.getElementById("phone");
    phone.textContent = s.phone_duty_on && s.phase === "open" ? "接电话 " + (s.phone_duty || "无") : "";
  }

  function card(e, i) {
    var li = el("li", e.presence + (e.next ? " next" : ""));
    var top = el("div", "top");
    top.appendChild(el("span", "name", e.name));
    li.appendChild(top);
    var meta = el("div", "meta");
    meta.appendChild(el("span", "pos", (i + 1) + "."));
    if (e.makeup) meta.appendChild(el("span", "makeup", "补接" + e.makeup));
    meta.appendChild(el("span", "word", e.word));
    var since = e.since ? " · 自" + e.since : e.away_since ? " · " + e.away_since + "起" : "";
    meta.appendChild(el("span", "detail", "计" + e.counted + "次" + since));
    li.appendChild(meta);
    return li;
  }

  function queue(s) {
    var q = document.getElementById("queue"), more = document.getElementById("more");
    var items = s.phase === "before" ? s.early.map(function (n) {
      return { name: n, presence: "available", word: "已签到", counted: 0 };
    }) : s.queue;
    document.getElementById("queue-title").textContent = s.phase === "before" ? "开班前已签到（" + items.length + "）" :
      "今日轮排（" + items.length + " 人）";
    var n = items.length;
    document.body.dataset.size = n <= 6 ? "s" : n <= 12 ? "m" : n <= 24 ? "l" : "xl";
    q.replaceChildren.apply(q, items.map(card));
    more.hidden = true;
    var hidden = 0;        // never cut silently: whatever does not fit is counted under the queue
    while (q.children.length > 1 && q.scrollHeight > q.clientHeight + 1 && getComputedStyle(q).overflowY === "hidden") {
      q.removeChild(q.lastChild);
      hidden += 1;
    }
    if (hidden) { more.hidden = false; more.textContent = "另有 " + hidden + " 人未显示"; }
  }

  function render(s) {
    state = s;
    offsetMin = s.utc_offset_min;
    document.getElementById("project").textContent = s.project;
    document.getElementById("date").textContent = s.date;
    document.body.dataset.phase = s.phase;
    hero(s);
    side(s);
    queue(s);
    var last = document.getElementById("last");
    last.textContent = s.last ? "最近变更 " + s.last.at + " " + s.last.actor + (s.last.undone ? "（已撤销）" : "") : "今天还没有变更";
    fit(document.getElementById("next"));       // last: the layout around it is settled
    var tv = getComputedStyle(document.documentElement).overflowY === "hidden";
    Array.prototype.forEach.call(document.querySelectorAll("#queue .name"), function (e) {
      fit(e, tv ? 0.045 * innerHeight : 18);     // on a TV never under 4.5 vh
    });
    document.body.dataset.next = s.next || "";
  }

  function heardNow() {
    heard = Date.now();
    check();
  }

  function check() {         // every second: the clock, and whether the board is out of date
    if (stopped) return;
    document.getElementById("clock").textContent = hhmm(Date.now(), false);
    var stale = heard > 0 && Date.now() - heard > STALE_MS, banner = document.getElementById("stale");
    document.body.classList.toggle("stale", stale);
    banner.hidden = !stale;
    if (stale) banner.textContent = "⚠ 自 " + hhmm(heard, true) + " 起未更新，以下可能不是最新";
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
    heardNow();
  }

  // The link was reset (/看板 重置): nothing of the old board stays on screen, and no more requests.
  function gone() {
    stopped = true;
    if (es) { es.close(); es = null; }
    if (poller) { clearInterval(poller); poller = null; }
    if (retry) { clearTimeout(retry); retry = null; }
    state = null;
    Object.keys(document.body.dataset).forEach(function (k) { delete document.body.dataset[k]; });
    document.body.replaceChildren(el("div", "gone", GONE));
    document.body.className = "gone";
    document.title = GONE;
  }

  function poll() {
    fetch(base + "/state", { cache: "no-store" }).then(function (r) {
      if (r.status === 404) { gone(); return null; }
      return r.ok ? r.json() : null;
    }).then(function (s) {
      if (s && !stopped && !(es && es.readyState === EventSource.OPEN)) {
        polled = true; render(s); heardNow(); status("定时刷新", false);
      }
    }).catch(function () { polled = false; status("连接中断，正在重连…", true); });
  }

  function closed() {
    if (stopped) return;
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
    source.addEventListener("tick", function (ev) {
      var t = JSON.parse(ev.data);
      if (t.now_ms) skew = t.now_ms - Date.now();
      live();
    });
    source.addEventListener("gone", gone);
    source.onopen = live;
    source.onerror = function () {
      if (source !== es) return;
      if (!polled) status("连接中断，正在重连…", true);
      if (source.readyState === EventSource.CLOSED) closed();
      else poll();           // a 404 here means the link was reset: the poll finds out and blanks the page
    };
  }
  window.addEventListener("resize", function () { if (state) render(state); });
  if (document.fonts) document.fonts.ready.then(function () { if (state) render(state); });
  setInterval(check, 1000);
  connect();
})();
