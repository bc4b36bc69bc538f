"""Text a submission controls, kept out of the feedback's Markdown.

What a submission prints, the text of its exceptions and tracebacks, the names of its types and the
keys it returns are never Markdown. While a grading writes its feedback (`collecting()`), each such
piece goes through `untrusted(text)`, which records it and returns a token for the Markdown. The
result carries, beside each Markdown text, the pieces its tokens stand for (`untrusted`:
{token: {text, block}}); the web page renders the Markdown, sanitises it, then puts each piece in as
escaped text in a <code> (inline) or <pre> (block) element; the terminal prints it as it is.
A message may be reused in several places (a failed training phase in the summary and in a check):
a token means the same piece wherever it appears. No torch here: the web process uses it.
"""
from __future__ import annotations

import contextlib
import contextvars
import re
import secrets

MAX_CHARS = 4000  # one piece; a longer one keeps its end (a traceback's last frames, the last prints)
TOKEN_RE = re.compile(r"dgmu[0-9a-f]{12}z")
_registry: contextvars.ContextVar[dict[str, dict] | None] = contextvars.ContextVar("untrusted", default=None)


@contextlib.contextmanager
def collecting():
    """Record the untrusted pieces of the feedback written inside the block; yields {token: piece}."""
    registry: dict[str, dict] = {}
    token = _registry.set(registry)
    try:
        yield registry
    finally:
        _registry.reset(token)


def untrusted(text, *, block: bool = False) -> str:
    """A token for `text` in the Markdown being written: shown escaped, never as Markdown.

    Outside `collecting()` (a caller that only prints to a terminal) the text comes back in a code
    span or fence that it cannot close."""
    text = str(text)
    if len(text) > MAX_CHARS:
        text = "…" + text[-MAX_CHARS:]
    registry = _registry.get()
    if registry is None:
        return _fenced(text, block)
    token = f"dgmu{secrets.token_hex(6)}z"
    registry[token] = {"text": text, "block": block}
    return f"\n\n{token}\n\n" if block else token


def pieces_in(markdown: str, registry: dict[str, dict]) -> dict[str, dict]:
    """The pieces that `markdown`'s tokens stand for."""
    return {token: registry[token] for token in TOKEN_RE.findall(markdown or "") if token in registry}


def _fenced(text: str, block: bool) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3 if block else 1, longest + 1)
    if block:
        return f"\n\n{fence}\n{text}\n{fence}\n\n"
    inline = " ".join(text.split())
    pad = " " if inline.startswith("`") or inline.endswith("`") else ""  # CommonMark strips one space each side
    return f"{fence}{pad}{inline}{pad}{fence}"


def resolve_plain(markdown: str, pieces: dict | None) -> str:
    """The Markdown with each token replaced by its text (unknown tokens dropped), for a terminal."""
    pieces = pieces if isinstance(pieces, dict) else {}

    def replace(match: re.Match) -> str:
        piece = pieces.get(match.group(0))
        return str(piece.get("text", "")) if isinstance(piece, dict) else ""

    return TOKEN_RE.sub(replace, markdown or "")
