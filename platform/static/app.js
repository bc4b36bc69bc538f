/* The student pages' behaviour, plain JavaScript, no build step:
   - math: <span class="math inline|display">$…$</span> typeset with KaTeX when it is installed
     (otherwise the TeX stays readable as it is);
   - code blocks highlighted with highlight.js when it is installed;
   - tabs (the ARIA tab pattern: arrow keys, Home and End; the editor itself is editor.js);
   - the submission page's live status: polls the API, moves the stepper queued → running → graded,
     shows the queue position and expected start, a running job's time, step and loss curve,
     then swaps in the server-rendered (sanitised) feedback without reloading the page. */
(function () {
  "use strict";

  function renderMath(root) {
    if (!window.katex) return;
    root.querySelectorAll("span.math:not([data-rendered])").forEach(function (el) {
      var display = el.classList.contains("display");
      var tex = el.textContent.trim();
      tex = display ? tex.replace(/^\$\$/, "").replace(/\$\$$/, "") : tex.replace(/^\$/, "").replace(/\$$/, "");
      try {
        window.katex.render(tex, el, {displayMode: display, throwOnError: false, trust: false, strict: "ignore"});
        el.setAttribute("data-rendered", "katex");
      } catch (e) { /* leave the TeX as text */ }
    });
  }

  function highlight(root) {
    if (!window.hljs) return;
    root.querySelectorAll("pre code:not(.hljs)").forEach(function (el) {
      if (!/language-/.test(el.className)) el.classList.add("language-python");
      window.hljs.highlightElement(el);
    });
  }

  function enhance(root) { renderMath(root); highlight(root); }
  window.dgmEnhance = enhance;

  /* Tabs: [role=tablist] buttons with aria-controls, the ARIA tab pattern (one tab stop, arrows,
     Home and End move between tabs and select them). */
  function setupTabs() {
    document.querySelectorAll("[role=tablist]").forEach(function (list) {
      var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
      function select(tab) {
        tabs.forEach(function (t) {
          var on = t === tab;
          t.setAttribute("aria-selected", on ? "true" : "false");
          t.tabIndex = on ? 0 : -1;
          document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
        });
      }
      tabs.forEach(function (tab, i) {
        tab.addEventListener("click", function () { select(tab); });
        tab.addEventListener("keydown", function (e) {
          var to = {ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1}[e.key];
          if (to === undefined) return;
          e.preventDefault();
          var next = tabs[(to + tabs.length) % tabs.length];
          select(next);
          next.focus();
        });
      });
    });
  }

  /* The submission page's live status. */
  var FINISHED = {graded: 1, error: 1, timeout: 1, memory_limit: 1, infrastructure_error: 1, cancelled: 1};
  var LABELS = {queued: "Queued", running: "Running", graded: "Graded", error: "Error", timeout: "Timed out",
                memory_limit: "Memory limit", infrastructure_error: "Infrastructure error", cancelled: "Cancelled"};

  function duration(s) {
    s = Math.max(0, Math.round(Number(s) || 0));
    if (s < 90) return s + " s";
    var m = Math.floor(s / 60), r = s % 60;
    return m + " min" + (r ? " " + r + " s" : "");
  }

  function num(x) { return typeof x === "number" && isFinite(x) ? x : null; }

  /* Queue position and expected start while queued; elapsed time against the budget, step and loss
     while running. Everything here is set as text or SVG numbers: progress is untrusted display data. */
  function showLive(d) {
    var summary = document.getElementById("live-summary"), detail = document.getElementById("live-detail");
    var bar = document.getElementById("live-bar"), svg = document.getElementById("live-loss");
    if (!summary) return;
    var w = d.wait, r = d.running, lines = ["", ""];
    bar.hidden = true;
    svg.hidden = true;
    if (w) {
      lines[0] = "Queued: position " + w.position + " in the " + w.queue + " queue" +
                 (w.ahead ? " (" + w.ahead + " job" + (w.ahead === 1 ? "" : "s") + " ahead)" : "") +
                 ", waiting for " + duration(w.waiting_s) + ".";
      if (!w.slots) {
        lines[1] = "No worker is taking jobs from this queue right now; grading starts when one is back, and nothing is lost.";
      } else if (num(w.estimated_start_s) !== null) {
        lines[1] = (w.estimated_start_s < 5 ? "Should start within seconds" :
                    "Expected to start in about " + duration(w.estimated_start_s)) +
                   " (from recent gradings of this exercise; " + w.running + " of " + w.slots + " worker slot" +
                   (w.slots === 1 ? "" : "s") + " busy).";
      } else {
        lines[1] = w.running + " of " + w.slots + " worker slot" + (w.slots === 1 ? "" : "s") + " busy.";
      }
    } else if (r) {
      var p = r.progress || {};
      lines[0] = (p.phase === "sampling" ? "Sampling" : p.phase === "training" ? "Training" : "Running") +
                 " for " + duration(r.elapsed_s) + (num(r.budget_s) ? " of a budget of " + duration(r.budget_s) : "") + ".";
      var parts = [];
      if (num(p.step) !== null) parts.push("step " + p.step + (num(p.steps) ? " of " + p.steps : ""));
      var series = p.series || {}, names = Object.keys(series);
      names.forEach(function (name) {
        var pts = series[name], last = pts && pts.length ? pts[pts.length - 1] : null;
        if (last && num(last[1]) !== null) parts.push(name + " " + Number(last[1]).toPrecision(4));
      });
      if (num(r.heartbeat_age_s) !== null && r.heartbeat_age_s > 20) {
        parts.push("the worker has not reported for " + duration(r.heartbeat_age_s) +
                   "; if it stays silent the job is requeued automatically");
      }
      lines[1] = parts.length ? parts.join(" · ") : "";
      if (num(r.budget_s)) {
        var pct = Math.min(100, Math.round(100 * r.elapsed_s / r.budget_s));
        bar.hidden = false;
        bar.setAttribute("aria-valuenow", String(pct));
        bar.firstElementChild.style.width = pct + "%";
      }
      var loss = series.loss || series[names[0]];
      if (loss && loss.length > 1) drawCurve(svg, loss);
    }
    summary.textContent = lines[0];
    detail.textContent = lines[1];
  }

  function drawCurve(svg, points) {
    var W = 320, H = 90, pad = 4, xs = [], ys = [];
    points.forEach(function (pt) {
      if (num(pt[0]) !== null && num(pt[1]) !== null) { xs.push(pt[0]); ys.push(pt[1]); }
    });
    if (xs.length < 2) return;
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    var path = xs.map(function (x, i) {
      var px = pad + (W - 2 * pad) * (x1 > x0 ? (x - x0) / (x1 - x0) : 0);
      var py = H - pad - (H - 2 * pad) * (y1 > y0 ? (ys[i] - y0) / (y1 - y0) : 0.5);
      return px.toFixed(1) + "," + py.toFixed(1);
    }).join(" ");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", path);
    line.setAttribute("class", "curve");
    svg.appendChild(line);
    svg.hidden = false;
  }

  function showStatus(status) {
    var pill = document.getElementById("status");
    pill.textContent = LABELS[status] || status;
    pill.className = "status " + status;
    pill.setAttribute("data-status", status);
    var order = ["queued", "running", "graded"], steps = document.querySelectorAll("#stepper li");
    var at = FINISHED[status] ? 2 : order.indexOf(status);
    steps.forEach(function (li, i) {
      li.className = i < at || (i === at && FINISHED[status]) ? "done" : (i === at ? "current" : "");
      if (i === 2 && FINISHED[status] && status !== "graded") {
        li.className = "failed";
        li.textContent = LABELS[status];
      }
    });
  }

  function setupPolling(info) {
    showStatus(info.status);
    if (FINISHED[info.status]) return;
    showLive(info);
    var delay = 800;
    function swapFeedback() {
      return fetch(window.location.href, {credentials: "same-origin"})
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          ["feedback", "submission-tags"].forEach(function (id) {
            var fresh = doc.getElementById(id), here = document.getElementById(id);
            if (fresh && here) here.replaceWith(document.adoptNode(fresh));
          });
          enhance(document.getElementById("feedback"));
          setBars(document.getElementById("feedback"));
        });
    }
    function poll() {
      fetch(info.api, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (d) {
          if (FINISHED[d.status]) {
            swapFeedback().then(function () { showStatus(d.status); },
                                function () { showStatus(d.status); window.location.reload(); });
          } else {
            showStatus(d.status);
            showLive(d);
            delay = Math.min(delay * 1.3, 3000);
            setTimeout(poll, delay);
          }
        })
        .catch(function () { setTimeout(poll, 4000); });
    }
    setTimeout(poll, delay);
  }

  /* Progress bars: their width from data-percent (the Content-Security-Policy allows no inline styles). */
  function setBars(root) {
    root.querySelectorAll("[data-percent]").forEach(function (el) {
      var pct = Math.max(0, Math.min(100, Number(el.getAttribute("data-percent")) || 0));
      el.style.width = pct + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setBars(document);
    enhance(document);
    setupTabs();
    var data = document.getElementById("submission-data");
    if (data) setupPolling(JSON.parse(data.textContent));
  });
})();
