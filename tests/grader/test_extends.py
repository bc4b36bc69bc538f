"""`extends`: an exercise built on core exercises inherits their functions, checks, points,
delegation rules, solutions, starters and cases (grader/extends.py); its version covers
exactly what its grading depends on (grader/version.py). No Docker."""
from __future__ import annotations

import ast
import shutil

import pytest

import grader.version
from grader.extends import Prefixed
from grader.probes import Planner
from grader.spec import REPO_ROOT, SpecError, load_exercise


def test_an_exercise_inherits_its_cores_functions_checks_points_and_delegation_rules():
    elbo, reparam, train = load_exercise("vae-elbo"), load_exercise("vae-reparam"), load_exercise("vae-train")
    assert train.functions == ("gaussian_kl", "negative_elbo", "reparameterize")
    assert train.delegation == elbo.delegation
    expected = [(c.name, c.points, c.visibility) for c in elbo.checks]
    expected += [("reparam_" + c.name, c.points, c.visibility) for c in reparam.checks]
    assert [(c.name, c.points, c.visibility) for c in train.checks[:len(expected)]] == expected
    assert [c.name for c in train.checks[len(expected):]] == ["trains", "loss_decreases", "samples_valid",
                                                              "not_memorised"]
    assert train.max_score == elbo.max_score + reparam.max_score + 8


def test_a_prefixed_check_plans_and_reads_its_probes_under_the_prefix():
    reparam = load_exercise("vae-reparam")
    prefixed = next(c.check for c in load_exercise("vae-train").checks if c.name == "reparam_gradients")
    assert isinstance(prefixed, Prefixed) and prefixed.title == reparam.checks[7].check.title
    planner = Planner(0)
    prefixed.plan(planner)
    assert planner.probes and all(probe_id.startswith("reparam_") for probe_id in planner.probes)


def test_inherited_cases_are_the_cores_files_completed_by_the_other_cores_solutions():
    train = load_exercise("vae-train")
    elbo, reparam = (REPO_ROOT / "exercises" / s for s in ("vae-elbo", "vae-reparam"))
    cases = {c.name: c for c in train.wrong_cases()}
    assert cases["no_gradient"].parts == (elbo / "solution.py", reparam / "wrong" / "no_gradient.py")
    assert cases["no_gradient"].fails == ("reparam_gradients",)  # vae-reparam's label, renamed
    assert cases["per_sample_loss"].parts == (elbo / "wrong" / "per_sample_loss.py", reparam / "solution.py")
    assert set(cases["per_sample_loss"].fails) >= {"elbo_values", "trains", "samples_valid"}  # + also_fails
    assert "not_delegated" in cases["kl_divergence_delegated"].fails  # the delegation check is never prefixed
    module = ast.parse(cases["no_gradient"].source())
    assert {n.name for n in module.body if isinstance(n, ast.FunctionDef)} == set(train.functions)
    assert train.solution().parts == (elbo / "solution.py", reparam / "solution.py")
    [right] = train.right_cases()
    assert right.parts == (elbo / "right" / "distributions_entropy.py", reparam / "right" / "distributions_rsample.py")


def test_the_starter_is_the_cores_starters_under_the_exercises_own_docstring():
    train = load_exercise("vae-train")
    starter = train.starter_source()
    tree = ast.parse(starter)
    assert ast.get_docstring(tree).startswith("Train a VAE with your ELBO and reparameterization.")
    assert {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} == set(train.functions)
    assert "The reparameterization trick." not in starter  # the cores' own docstrings are dropped


@pytest.fixture
def tree(tmp_path):
    """A copy of vae-elbo, vae-reparam and vae-train with the reference models, to edit."""
    for slug in ("vae-elbo", "vae-reparam", "vae-train"):
        shutil.copytree(REPO_ROOT / "exercises" / slug, tmp_path / "exercises" / slug)
    shutil.copytree(REPO_ROOT / "reference_models", tmp_path / "reference_models",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def load(tree, slug="vae-train"):
    return load_exercise(slug, tree / "exercises", repo_root=tree)


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(("toml", "message"), [
    ("[checks.reparam_mean]\npoints = 5\n", "comes from vae-reparam, whose exercise.toml sets its points"),
    ('"vae-reparam", prefix', 'extends takes a slug'),
])
def test_a_re_listed_inherited_check_or_a_bad_extends_is_refused(tree, toml, message):
    path = tree / "exercises" / "vae-train" / "exercise.toml"
    if toml.startswith("["):
        path.write_text(path.read_text() + toml)
    else:
        edit(path, '{slug = "vae-reparam", prefix = "reparam_"}', '["vae-reparam"]')
    with pytest.raises(SpecError, match=message):
        load(tree)


def test_two_cores_with_a_check_of_one_name_need_a_prefix(tree):
    edit(tree / "exercises" / "vae-train" / "exercise.toml", '{slug = "vae-reparam", prefix = "reparam_"}',
         '"vae-reparam"')
    (tree / "exercises" / "vae-train" / "wrong" / "cases.toml").write_text("")
    with pytest.raises(SpecError, match="give an extended exercise a prefix"):
        load(tree)


def test_a_case_from_an_exercise_it_does_not_extend_is_refused(tree):
    edit(tree / "exercises" / "vae-train" / "wrong" / "cases.toml", 'from = "vae-elbo"', 'from = "ddpm-schedule"')
    with pytest.raises(SpecError, match="which it does not extend"):
        load(tree).wrong_cases()


def test_the_version_follows_the_core_and_the_reference_models_its_checks_import_only(tree):
    before = load(tree).version
    edit(tree / "reference_models" / "flow.py", '"""', '"""Edited. ')  # no check of vae-* imports it
    assert load(tree).version == before
    edit(tree / "reference_models" / "vae.py", '"""', '"""Edited. ')  # vae-elbo's checks compare with it
    after_reference = load(tree).version
    assert after_reference != before and load(tree, "vae-reparam").version == load_exercise("vae-reparam").version
    edit(tree / "exercises" / "vae-reparam" / "wrong" / "cases.toml", "why = ", "why = 'edited' + ")
    assert load(tree).version != after_reference  # a core's file is the extending exercise's too


def test_the_version_covers_the_check_library_and_the_harness(tree, tmp_path, monkeypatch):
    grader_copy = tmp_path / "grader"
    shutil.copytree(grader.version.GRADER_DIR, grader_copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(grader.version, "GRADER_DIR", grader_copy)
    before = load(tree, "vae-reparam")
    assert grader_copy / "checks.py" in before.files and grader_copy / "harness" / "runner.py" in before.files
    assert grader_copy / "judge.py" not in before.files  # what runs a grading, not what decides it
    (grader_copy / "checks.py").write_text((grader_copy / "checks.py").read_text() + "\n# edited\n")
    after_library = load(tree, "vae-reparam").version
    assert after_library != before.version
    (grader_copy / "harness" / "runner.py").write_text((grader_copy / "harness" / "runner.py").read_text() + "\n#\n")
    assert load(tree, "vae-reparam").version != after_library
