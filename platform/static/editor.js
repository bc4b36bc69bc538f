/* The exercise page: the code editor, its per-exercise draft, the statement's table of contents, and
   a refused submission's error brought into view. Plain JavaScript, no build step.
   - Tab indents, Shift+Tab dedents; Esc then Tab leaves the editor (keyboard users are never trapped).
   - Edits go through execCommand("insertText") where the browser has it, so Ctrl+Z undoes an
     auto-indent like any typing.
   - The draft is kept in localStorage per course and exercise; leaving with code that was never
     submitted asks first. */
(function () {
  "use strict";
  var INDENT = "    ";

  function store() {
    try { return window.localStorage; } catch (e) { return null; }  // disabled storage: no drafts, no errors
  }

  function setupEditor(area) {
    var gutter = area.parentNode.querySelector(".gutter"), note = document.getElementById("editor-draft");
    var key = area.getAttribute("data-draft-key"), starter = area.getAttribute("data-starter") || "";
    var storage = store(), escaped = false, submitting = false;

    function numbers() {
      var n = area.value.split("\n").length, out = [];
      for (var i = 1; i <= n; i++) out.push(i);
      gutter.textContent = out.join("\n");
      gutter.scrollTop = area.scrollTop;
    }
    function read(suffix) { return storage ? storage.getItem(key + suffix) : null; }
    function write(suffix, value) {
      if (!storage) return;
      try { storage.setItem(key + suffix, value); } catch (e) { /* quota: the page still works */ }
    }
    function saveDraft() { write(":draft", area.value); write(":saved-at", new Date().toISOString()); }
    function dirty() {
      var submitted = read(":submitted");
      return area.value !== starter && area.value !== (submitted === null ? area.defaultValue : submitted);
    }

    /* Replace [start, end) with text, undoably where the browser allows it. */
    function replaceRange(start, end, text, selStart, selEnd) {
      area.focus();
      area.setSelectionRange(start, end);
      var done = false;
      try { done = document.execCommand("insertText", false, text); } catch (e) { done = false; }
      if (!done) area.setRangeText(text, start, end, "end");
      if (selStart !== undefined) area.setSelectionRange(selStart, selEnd);
      numbers();
      saveDraft();
    }

    area.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { escaped = true; return; }
      var wasEscaped = escaped;
      escaped = false;
      var v = area.value, s = area.selectionStart, t = area.selectionEnd;
      if (e.key === "Tab" && !e.ctrlKey && !e.altKey && !e.metaKey) {
        if (wasEscaped) return;  // Esc, then Tab: the browser moves the focus on
        e.preventDefault();
        var lineStart = v.lastIndexOf("\n", s - 1) + 1;
        if (s === t && !e.shiftKey) {  // spaces up to the next multiple of four
          replaceRange(s, t, INDENT.slice((s - lineStart) % INDENT.length));
          return;
        }
        var block = v.slice(lineStart, t), lines = block.split("\n");
        var changed = lines.map(function (l) { return e.shiftKey ? l.replace(/^ {1,4}/, "") : INDENT + l; });
        var text = changed.join("\n");
        if (text === block) return;
        replaceRange(lineStart, t, text, s === t ? Math.max(lineStart, s + text.length - block.length) : lineStart,
                     lineStart + text.length);
      } else if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {  // keep the indentation
        var ls = v.lastIndexOf("\n", s - 1) + 1, indent = (/^[ \t]*/.exec(v.slice(ls, s)) || [""])[0];
        if (/:\s*$/.test(v.slice(ls, s))) indent += INDENT;
        e.preventDefault();
        replaceRange(s, t, "\n" + indent);
      }
    });
    area.addEventListener("input", function () { numbers(); saveDraft(); });
    area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });

    /* The draft: restored unless this page was asked to show other code (an earlier submission loaded
       back, or a refused submission's own text, which is what the student just wrote). */
    var draft = read(":draft");
    if (area.hasAttribute("data-loaded-from") || area.hasAttribute("data-refused")) {
      saveDraft();
    } else if (draft !== null && draft !== area.value) {
      area.value = draft;
      var at = read(":saved-at");
      if (note) note.textContent = "Restored your draft" + (at ? " from " + new Date(at).toLocaleString() : "") +
        ". It is kept in this browser and is not submitted until you press Submit.";
      area.setAttribute("data-restored", "");
    }

    area.form.addEventListener("submit", function () { submitting = true; write(":submitted", area.value); });
    window.addEventListener("beforeunload", function (e) {
      if (submitting || !dirty()) return;
      e.preventDefault();
      e.returnValue = "";  // the browser shows its own "leave this page?" text
    });

    var reset = document.querySelector("[data-reset-editor]");
    if (reset) {
      reset.addEventListener("click", function () {
        if (area.value === starter || window.confirm("Replace your code with the starter?")) {
          area.value = starter;
          numbers();
          saveDraft();
        }
      });
    }
    numbers();
  }

  /* A statement longer than the screen gets a table of contents of its sections. */
  function tableOfContents(statement) {
    var heads = statement.querySelectorAll("h2, h3");
    if (heads.length < 2 || statement.scrollHeight <= window.innerHeight) return;
    var nav = document.createElement("nav"), title = document.createElement("h2"), list = document.createElement("ol");
    nav.className = "toc";
    nav.id = "toc";
    nav.setAttribute("aria-labelledby", "toc-title");
    title.id = "toc-title";
    title.textContent = "Contents";
    heads.forEach(function (h, i) {
      if (!h.id) h.id = "section-" + (i + 1);
      var item = document.createElement("li"), link = document.createElement("a");
      item.className = h.tagName.toLowerCase();
      link.href = "#" + h.id;
      link.textContent = h.textContent;
      item.appendChild(link);
      list.appendChild(item);
    });
    nav.appendChild(title);
    nav.appendChild(list);
    var first = statement.querySelector("h1");
    statement.insertBefore(nav, first ? first.nextSibling : statement.firstChild);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var area = document.getElementById("editor");
    if (area) setupEditor(area);
    var statement = document.getElementById("statement");
    if (statement) tableOfContents(statement);
    var error = document.getElementById("form-error");
    if (error) {  // a refused submission: its message in view, read out, on the tab that was used
      error.scrollIntoView({block: "center"});
      error.focus({preventScroll: true});
    }
  });
})();
