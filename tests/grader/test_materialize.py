import nbformat
import pytest

from grader.materialize import SubmissionError, materialize


def notebook(*cells) -> bytes:
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        nb.cells.append(nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source))
    return nbformat.writes(nb).encode()


def test_python_file_is_decoded_as_utf8():
    assert materialize("s.py", "x = 'é'\n".encode()) == "x = 'é'\n"


def test_coding_cookie_is_honoured():
    data = "# -*- coding: latin-1 -*-\nx = 'é'\n".encode("latin-1")
    assert "x = 'é'" in materialize("s.py", data)


@pytest.mark.parametrize("data, line", [(b"x = 1\ny = '\xff'\n", 2), (b"\xe9 = 1\n", 1),
                                        (b"a = 1\nb = 2\nc = '\xfe'\n", 3)])
def test_non_utf8_names_the_line(data, line):
    with pytest.raises(SubmissionError, match=rf"not valid UTF-8 .* line {line} "):
        materialize("s.py", data)


def test_a_bad_coding_cookie_is_named():
    with pytest.raises(SubmissionError, match="encoding declaration"):
        materialize("s.py", b"# -*- coding: klingon -*-\nx = 1\n")


def test_wrong_extension_and_size_are_refused():
    with pytest.raises(SubmissionError, match=r"\.py.*\.ipynb"):
        materialize("s.txt", b"x = 1")
    with pytest.raises(SubmissionError, match="limit"):
        materialize("s.py", b"#" * 2_000_000)


def test_notebook_keeps_code_drops_magics_and_markdown():
    source = materialize("n.ipynb", notebook(
        ("markdown", "# Title\nimport os"),
        ("code", "!pip install torch\n%matplotlib inline\nimport torch\n  %time x = 1\ny = 2"),
        ("code", "%%time\nz = 3\n%load_ext foo"),
        ("code", "%%timeit\nw = 4"),
        ("code", "%%capture\nv = 5"),
        ("code", "%%bash\necho hi"),
        ("code", "\n\n%%writefile f.py\nbad = 1"),
        ("code", "def f():\n    return 1"),
    ))
    compiled = compile(source, "n", "exec")  # valid Python
    namespace: dict = {}
    exec(compiled, namespace)  # noqa: S102 — our own test source, not a submission
    assert {"y", "z", "w", "v", "f"} <= set(namespace)
    assert "bad" not in namespace and "echo" not in source and "Title" not in source
    assert "pip" not in source and "matplotlib" not in source and "load_ext" not in source


def test_stored_outputs_are_ignored():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("a = 1")
    cell.outputs = [nbformat.v4.new_output("stream", text="import evil")]
    nb.cells.append(cell)
    assert "evil" not in materialize("n.ipynb", nbformat.writes(nb).encode())


@pytest.mark.parametrize("data", [b"{not json", b'{"cells": 3}', b"\xff\xfe"])
def test_malformed_notebooks_get_a_clear_error(data):
    with pytest.raises(SubmissionError, match="notebook"):
        materialize("n.ipynb", data)
