"""Walks every exercise's solution, right/ and wrong/ cases through the real
Docker sandbox (DMOJ-style regression cases as data): the solution and every
correct variant get full marks, each known-wrong solution fails exactly the
checks it is labelled with."""
from __future__ import annotations

import json

import pytest

from grader.spec import list_exercises, load_exercise
from grader.validate import validate
from scripts.verdicts import VERDICTS, differences, verdict

CORE = ["vae-elbo", "vae-reparam", "gan-minimax", "ddpm-schedule", "attention"]
# Training exercises train a model per case (about a minute each even at the tiny
# profile): tests/exercises/test_training_exercises.py walks them.
PROBE_ONLY = [slug for slug in list_exercises() if load_exercise(slug).training is None]


def test_the_five_core_exercises_exist():
    assert set(CORE) <= set(list_exercises())


@pytest.mark.docker
@pytest.mark.parametrize("slug", PROBE_ONLY)
def test_exercise_is_sound(slug, clean_docker):
    exercise = load_exercise(slug)
    assert len(exercise.wrong_cases()) >= 6, "every exercise ships at least 6 known-wrong solutions"
    reports = validate(exercise, clean_docker)
    problems = []
    for r in reports:
        if not r.ok:
            got = {t.name: t.output[:300] for t in r.result.tests if t.status != "passed"}
            problems.append(f"{r.name}: status {r.status}, expected failures {sorted(r.expected_failures)}, got {got}")
    assert not problems, "\n".join(problems)
    # the same pass holds every recorded case to its verdict (scripts/verdicts.py record re-records)
    recorded = json.loads(VERDICTS.read_text()).get(slug, {})
    changed = differences({slug: recorded}, {slug: {r.name: verdict(r) for r in reports}})
    assert not changed, "\n".join(changed)
    solution = reports[0]
    assert solution.name == "solution" and solution.result.score == exercise.max_score


@pytest.mark.parametrize("slug", list_exercises())
def test_exercise_files_are_complete(slug):
    exercise = load_exercise(slug)
    for name in ("statement.md", "starter.ipynb"):
        assert (exercise.path / name).is_file(), f"{slug} lacks {name}"
    statement = (exercise.path / "statement.md").read_text()
    assert "What is checked" in statement
    import ast

    for name, source in (("starter", exercise.starter_source()), ("solution", exercise.solution().source())):
        tree = ast.parse(source)
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert set(exercise.functions) <= defined, f"{slug}'s {name} lacks {set(exercise.functions) - defined}"
    for function in exercise.functions:
        assert function in statement
    for check in exercise.checks:
        if check.check is not None:
            assert check.check.title, f"{slug}:{check.name} has no title"


@pytest.mark.parametrize("slug", list_exercises())
def test_starter_notebook_is_generated_from_the_starter(slug):
    import nbformat

    from grader.materialize import materialize
    from grader.notebook import build_notebook

    exercise = load_exercise(slug)
    committed = nbformat.read(exercise.path / "starter.ipynb", as_version=4)
    assert [c.source for c in committed.cells] == [c.source for c in build_notebook(exercise).cells], \
        f"run `python -m grader notebook {slug}`"
    notebook_source = materialize("starter.ipynb", (exercise.path / "starter.ipynb").read_bytes())
    starter_defs = {n.name for n in __import__("ast").parse(exercise.starter_source()).body
                    if hasattr(n, "name")}
    notebook_defs = {n.name for n in __import__("ast").parse(notebook_source).body if hasattr(n, "name")}
    assert starter_defs == notebook_defs


@pytest.mark.docker
def test_a_notebook_submission_is_graded_like_its_source(clean_docker):
    """The CLI's `grade attention notebook.ipynb` path: cells, magics and outputs as a student leaves them."""
    import nbformat

    from grader.judge import grade

    exercise = load_exercise("attention")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# My attention"),
        nbformat.v4.new_code_cell("!pip install torch\n%matplotlib inline"),
        nbformat.v4.new_code_cell("%%time\n" + exercise.solution().source()),
        nbformat.v4.new_code_cell("%%bash\necho this cell is dropped"),
    ]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="CPU times: 1 ms")]
    result = grade(exercise, "attention.ipynb", nbformat.writes(nb).encode(), sandbox=clean_docker)
    assert result.status == "graded" and result.score == exercise.max_score, result.output
