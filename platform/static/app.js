/* The student pages' behaviour, plain JavaScript, no build step:
   - math: <span class="math inline|display">$…$</span> typeset with KaTeX when it is installed
     (otherwise the TeX stays readable as it is);
   - code blocks highlighted with highlight.js when it is installed;
   - the in-browser editor (tab inserts spaces, line numbers) and the submit tabs;
   - the submission page's live status: polls the API, moves the stepper queued → running → graded,
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

  /* Tabs: [role=tablist] buttons with aria-controls. */
  function setupTabs() {
    document.querySelectorAll("[role=tablist]").forEach(function (list) {
      var tabs = list.querySelectorAll("[role=tab]");
      tabs.forEach(function (tab) {
        tab.addEventListener("click", function () {
          tabs.forEach(function (t) {
            var on = t === tab;
            t.setAttribute("aria-selected", on ? "true" : "false");
            document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
          });
        });
      });
    });
  }

  /* The code editor: a textarea with a line-number gutter. */
  function setupEditor(area) {
    var gutter = area.parentNode.querySelector(".gutter");
    var INDENT = "    ";
    function numbers() {
      var n = area.value.split("\n").length, out = [];
      for (var i = 1; i <= n; i++) out.push(i);
      gutter.textContent = out.join("\n");
      gutter.scrollTop = area.scrollTop;
    }
    function replaceRange(start, end, text, selStart, selEnd) {
      area.setRangeText(text, start, end, "end");
      if (selStart !== undefined) area.setSelectionRange(selStart, selEnd);
      numbers();
    }
    area.addEventListener("keydown", function (e) {
      var v = area.value, s = area.selectionStart, t = area.selectionEnd;
      if (e.key === "Tab" && !e.ctrlKey && !e.altKey && !e.metaKey) {
        e.preventDefault();
        var lineStart = v.lastIndexOf("\n", s - 1) + 1;
        if (s === t && !e.shiftKey) {  // insert spaces up to the next multiple of four
          var col = s - lineStart, pad = INDENT.slice(col % INDENT.length);
          replaceRange(s, t, pad);
          return;
        }
        var block = v.slice(lineStart, t), lines = block.split("\n"), changed;
        if (e.shiftKey) {
          changed = lines.map(function (l) { return l.replace(/^ {1,4}/, ""); });
        } else {
          changed = lines.map(function (l) { return INDENT + l; });
        }
        var text = changed.join("\n");
        replaceRange(lineStart, t, text, s === t ? Math.max(lineStart, s + text.length - block.length) : lineStart,
                     lineStart + text.length);
      } else if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey) {  // keep the indentation
        var ls = v.lastIndexOf("\n", s - 1) + 1, indent = (/^[ \t]*/.exec(v.slice(ls, s)) || [""])[0];
        if (/:\s*$/.test(v.slice(ls, s))) indent += INDENT;
        e.preventDefault();
        replaceRange(s, t, "\n" + indent);
      }
    });
    area.addEventListener("input", numbers);
    area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
    var reset = document.querySelector("[data-reset-editor]");
    if (reset) {
      reset.addEventListener("click", function () {
        if (area.value === area.defaultValue || window.confirm("Replace your code with the starter?")) {
          area.value = area.defaultValue;
          numbers();
        }
      });
    }
    numbers();
  }

  /* The submission page's live status. */
  var FINISHED = {graded: 1, error: 1, timeout: 1, memory_limit: 1, infrastructure_error: 1};
  var LABELS = {queued: "Queued", running: "Running", graded: "Graded", error: "Error", timeout: "Timed out",
                memory_limit: "Memory limit", infrastructure_error: "Infrastructure error"};

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
            delay = Math.min(delay * 1.3, 5000);
            setTimeout(poll, delay);
          }
        })
        .catch(function () { setTimeout(poll, 4000); });
    }
    setTimeout(poll, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    setupTabs();
    document.querySelectorAll("textarea.code").forEach(setupEditor);
    var data = document.getElementById("submission-data");
    if (data) setupPolling(JSON.parse(data.textContent));
  });
})();
