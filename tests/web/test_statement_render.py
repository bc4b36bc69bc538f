"""Every exercise's statement, rendered by the site's own renderer (catalog.markdown), reads as written:
no `$` left outside math (a formula the math rule did not recognise shows its TeX to students), and no
list item run into the paragraph or item above it (Python-Markdown needs nested lists and the
paragraphs inside an item indented by 4 spaces; with 2 or 3 they become one long paragraph).

Parametrized over grader.spec.list_exercises(), so an exercise added later is checked too."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from catalog.markdown import markdown_to_safe_html
from grader.spec import EXERCISES_DIR, list_exercises

BLOCKS = {"p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "blockquote"}
# What starts a list item in Python-Markdown ("1)" does not): found inside a paragraph, an item was run in.
LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,9}\.)\s+\S")


class Prose(HTMLParser):
    """The text of each block element, without code, preformatted text or math: what a reader sees as
    prose. A block's text ends where a nested block starts (an item's text stops at its sub-list)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped: code/pre/math and what is inside)
        self.blocks: list[tuple[str, str]] = []  # (tag, text)
        self._open: list[list] = []  # [tag, text] of the open blocks, innermost last

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        skip = tag in ("code", "pre") or (tag == "span" and ("math" in classes or "dollar" in classes))
        self.stack.append((tag, skip))
        if tag in BLOCKS and not self._skipping():
            self._open.append([tag, ""])

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag in BLOCKS and self._open and self._open[-1][0] == open_tag and not self._skipping():
                self.blocks.append(tuple(self._open.pop()))
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._open and not self._skipping():
            self._open[-1][1] += data


def prose_blocks(html: str) -> list[tuple[str, str]]:
    parser = Prose()
    parser.feed(html)
    parser.close()
    return parser.blocks


def statement_problems(markdown_text: str) -> list[str]:
    html = markdown_to_safe_html(markdown_text, math=True)
    problems = []
    for tag, text in prose_blocks(html):
        if "$" in text:
            problems.append(f"a stray $ in <{tag}>: {text.strip()[:160]!r}")
        for line in text.splitlines()[1:]:
            if LIST_MARKER.match(line):
                problems.append(f"a list item run into <{tag}> (indent it by 4 spaces): {line.strip()[:120]!r}")
    return problems


@pytest.mark.parametrize("slug", list_exercises())
def test_the_statement_renders_its_math_and_lists(slug):
    problems = statement_problems((EXERCISES_DIR / slug / "statement.md").read_text())
    assert problems == [], f"exercises/{slug}/statement.md:\n" + "\n".join(problems)


def test_the_checks_catch_what_they_look_for():
    """The two checks on statements that have each fault, and on the same text written right."""
    assert any("stray $" in p for p in statement_problems("The betas are $1 - $ a ratio."))
    assert statement_problems("The betas are $1 - r$ for a ratio $r$.") == []
    run_together = "1. **Training.** It trains:\n\n   $$L = 1$$\n\n   where L is the loss.\n2. **Sampling.** Then."
    assert any("run into <p>" in p for p in statement_problems(run_together))
    nested = "1. **Scoring**, of the samples:\n   - **FID**: a distance\n   - **KID**: another\n"
    assert any("run into <li>" in p for p in statement_problems(nested))
    # right: the item's paragraphs indented by 4, and a blank line before the next item (else it is lazily
    # taken as the paragraph's last line)
    assert statement_problems(run_together.replace("\n   ", "\n    ").replace("\n2.", "\n\n2.")) == []
    assert statement_problems(nested.replace("   -", "    -")) == []
    assert statement_problems("Code is not prose: `cost = $5` and\n\n```\n- x\n$y\n```\n") == []
    assert statement_problems("A literal dollar is escaped: \\$5 and \\$6.") == []
    assert statement_problems("Gulrajani et al. (\n2017) is no list item: Python-Markdown has no `1)` lists.") == []


def test_an_escaped_dollar_is_a_dollar_not_math():
    html = markdown_to_safe_html(r"It costs \$5 and \$6; $x$ is math; `\$` is code.", math=True)
    assert html.count('<span class="dollar">$</span>') == 2 and "\\$5" not in html
    assert '<span class="math inline">$x$</span>' in html and "<code>\\$</code>" in html
