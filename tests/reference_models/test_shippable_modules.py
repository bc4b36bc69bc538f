"""The architecture modules the training scaffolds ship into the sandbox: they never
carry a reference implementation of an exercised function, and import only what the
sandbox has (torch) plus math, dataclasses and each other."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
import torch

from reference_models import ddpm, diffusion

ROOT = Path(__file__).resolve().parents[2] / "reference_models"
SHIPPABLE = ["diffusion.py", "unet.py", "vae_nets.py", "gan_nets.py"]
ALLOWED_IMPORTS = {"__future__", "torch", "math", "dataclasses"}
# Every function any exercise asks students for (each exercise.toml's `functions`): none may be shipped.
EXERCISED = {name for toml in (ROOT.parent / "exercises").glob("*/exercise.toml")
             for name in tomllib.loads(toml.read_text()).get("functions", [])}


def _bound_names(tree: ast.Module) -> set[str]:
    """Every def/class at any depth, and every name a module-level statement binds."""
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


@pytest.mark.parametrize("name", SHIPPABLE)
def test_shippable_module_defines_no_exercised_function_and_imports_only_torch(name):
    tree = ast.parse((ROOT / name).read_text())
    assert not _bound_names(tree) & EXERCISED
    modules = set()  # every module the file imports, as a dotted name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "reference_models":
            modules |= {f"reference_models.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module)
    for module in modules:
        top, _, rest = module.partition(".")
        if top == "reference_models":
            assert f"{rest}.py" in SHIPPABLE, f"{name} imports {module}, which is not shipped"
        else:
            assert top in ALLOWED_IMPORTS, f"{name} imports {module}"


def test_diffusion_trains_with_the_q_sample_it_was_given_and_samples_from_its_coefficients():
    betas = ddpm.linear_beta_schedule(50)
    calls = []

    def recording_q_sample(x0, t, noise, abar):
        calls.append(t)
        return ddpm.q_sample(x0, t, noise, abar)

    d = diffusion.GaussianDiffusion(betas, ddpm.alphas_cumprod(betas), recording_q_sample)
    reference = ddpm.GaussianDiffusion(betas)
    assert torch.equal(d.posterior_mean_coef2, reference.posterior_mean_coef2)
    model = lambda x, t: torch.zeros_like(x)  # noqa: E731  (predicts no noise)
    assert d.training_loss(model, torch.zeros(3, 1, 4, 4)).item() > 0 and len(calls) == 1
    x = d.ddim_sample_loop(model, (2, 1, 4, 4), torch.Generator().manual_seed(0), "cpu", steps=5)
    y = reference.ddim_sample_loop(model, (2, 1, 4, 4), torch.Generator().manual_seed(0), "cpu", steps=5)
    assert torch.equal(x, y)


def test_float32_schedule_tensors_are_used_in_float64():
    betas = ddpm.linear_beta_schedule(20).float()
    d = diffusion.GaussianDiffusion(betas, torch.cumprod(1 - betas, 0), ddpm.q_sample)
    assert d.betas.dtype == d.alphas_cumprod.dtype == d.posterior_variance.dtype == torch.float64
