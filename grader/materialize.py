"""A submission file as Python source text: `.py` decoded, `.ipynb` flattened.

Text only: nothing here imports or runs the submission.
"""
from __future__ import annotations

import io
import tokenize

MAX_BYTES = 1_000_000
KEPT_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")


class SubmissionError(ValueError):
    """A submission we cannot turn into source; the message is for the student."""


def decode_python(data: bytes) -> str:
    """Decode like Python does: a PEP 263 coding cookie or a BOM, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _not_utf8(data, exc.start) from None
    except (SyntaxError, LookupError) as exc:
        try:  # detect_encoding also raises SyntaxError for undecodable bytes on lines 1-2
            data.decode("utf-8")
        except UnicodeDecodeError as utf8_error:
            raise _not_utf8(data, utf8_error.start) from None
        raise SubmissionError(f"The file's encoding declaration is invalid: {exc}.") from None


def _not_utf8(data: bytes, position: int) -> SubmissionError:
    line = data[:position].count(b"\n") + 1
    return SubmissionError(f"The file is not valid UTF-8 text: byte 0x{data[position]:02x} on line {line} cannot be "
                           "decoded. Save the file as UTF-8.")


def notebook_to_source(text: str) -> str:
    """Code cells joined in order; `!`/`%` lines dropped, cell magics per the contract."""
    import nbformat  # here, not at the top: grading .py files (an imported bundle's validation in the
    # sandbox image, which has no nbformat) needs only the rest of this module

    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several unrelated types for bad input
        raise SubmissionError(f"The notebook could not be read: {str(exc).splitlines()[0][:300]}") from None
    chunks = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines and lines[0].lstrip().startswith("%%"):
            magic = lines[0].split()[0]
            if magic not in KEPT_CELL_MAGICS:
                continue
            lines = lines[1:]
        kept = [ln for ln in lines if not ln.lstrip().startswith(("!", "%"))]
        chunks.append(f"# --- notebook cell {index} ---\n" + "\n".join(kept))
    return "\n\n".join(chunks) + "\n"


def materialize(filename: str, data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise SubmissionError(f"The file is {len(data):,} bytes; the limit is {MAX_BYTES:,}.")
    if filename.endswith(".ipynb"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SubmissionError("The notebook is not valid UTF-8 JSON.") from None
        source = notebook_to_source(text)
    elif filename.endswith(".py"):
        source = decode_python(data)
    else:
        raise SubmissionError("Submit a Python file (.py) or a Jupyter notebook (.ipynb).")
    if "\x00" in source:
        raise SubmissionError("The source contains NUL bytes; it is not a text file.")
    return source
