"""Author Markdown (statements, check feedback) to sanitised HTML, with what a submission controls
put in afterwards as escaped text.

The sanitiser is nh3 (ammonia): a fixed set of tags, no images, no `class` or `style` from content,
links only within the site (a path, or an anchor), every other attribute dropped. A submission's
printed output, exception text and tracebacks never reach the Markdown: they arrive as untrusted
pieces (grader/untrusted.py) that replace their tokens in the sanitised HTML as escaped text in a
<code> or <pre> element.
"""
from __future__ import annotations

import re
import secrets
from html import escape

import markdown
import nh3

from grader.untrusted import TOKEN_RE

TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody",
        "td", "th", "thead", "tr", "ul"}
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}

# Code (fenced or inline) is skipped; then $$display$$ and $inline$ math (pandoc's rules: no space
# after the opening or before the closing $, no digit right after it; \$ is a literal dollar).
_MATH_OR_CODE = re.compile(
    r"(?P<fence>^[ \t]*(?P<ticks>`{3,}|~{3,})[^\n]*\n.*?^[ \t]*(?P=ticks)[ \t]*$)"
    r"|(?P<code>(?P<bt>`+).+?(?P=bt))"
    r"|(?P<dollar>\\\$)"
    r"|(?P<display>(?<!\\)\$\$.+?(?<!\\)\$\$)"
    r"|(?P<inline>(?<![\\$])\$(?![\s$])(?:[^$\n]|\n(?!\s*\n))+?(?<![\s\\])\$(?!\d))",
    re.MULTILINE | re.DOTALL)
_PIECE = re.compile(rf"<p>\s*(?P<alone>{TOKEN_RE.pattern})\s*</p>|(?P<inline>{TOKEN_RE.pattern})")
_SAME_SITE = re.compile(r"(?:/(?![/\\])|#)[^\s]*")  # "/path" or "#anchor"; not "//host" or a scheme


def _protect_math(text: str) -> tuple[str, dict[str, str]]:
    """Math out of the Markdown's way: Markdown would eat `\\{`, `\\!`, `*` and `_` inside it."""
    stash: dict[str, str] = {}
    nonce = secrets.token_hex(6)

    def replace(m: re.Match) -> str:
        if m.group("fence") or m.group("code"):
            return m.group(0)
        if m.group("dollar"):  # Markdown would keep the backslash: a marked dollar, never read as math
            key = f"mathph{nonce}x{len(stash)}x"
            stash[key] = '<span class="dollar">$</span>'
            return key
        key = f"mathph{nonce}x{len(stash)}x"
        kind = "display" if m.group("display") else "inline"
        stash[key] = f'<span class="math {kind}">{escape(m.group(0))}</span>'
        return key

    return _MATH_OR_CODE.sub(replace, text), stash


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "a" and attribute == "href":
        return value if _SAME_SITE.fullmatch(value) else None
    return value


def _untrusted_html(piece: dict) -> str:
    text = escape(str(piece.get("text", "")))
    return f'<pre class="untrusted"><code>{text}</code></pre>' if piece.get("block") else \
        f'<code class="untrusted">{text}</code>'


def markdown_to_safe_html(text: str, *, math: bool = False, untrusted: dict | None = None) -> str:
    """Markdown to HTML, sanitised; then the untrusted pieces in place of their tokens.

    With `math`, `$...$` and `$$...$$` become `<span class="math inline|display">` holding the
    escaped TeX with its delimiters, for client-side KaTeX (readable as TeX without it)."""
    stash: dict[str, str] = {}
    if math:
        text, stash = _protect_math(text or "")
    html = markdown.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists"])
    html = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, attribute_filter=_keep_attribute,
                     url_schemes=set(), link_rel="noopener noreferrer nofollow", strip_comments=True)
    for key, value in stash.items():  # after sanitising: the TeX is escaped, the wrapper is ours
        html = html.replace(key, value)
    pieces = untrusted if isinstance(untrusted, dict) else {}

    def replace(match: re.Match) -> str:
        found = pieces.get(match.group("alone") or match.group("inline"))
        return _untrusted_html(found) if isinstance(found, dict) else ""  # an unknown token: nothing

    # a piece alone in its paragraph (a block: printed output, a traceback) replaces the paragraph
    return _PIECE.sub(replace, html)
