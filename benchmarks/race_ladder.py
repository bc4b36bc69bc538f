"""The sampler race's FID ladder for race settings, outside the sandbox: how an instructor picks a
profile's target_fid, and what a setting or a bug costs in steps.

    python -m benchmarks.race_ladder --profile tiny [--seeds 1 2 3] [--case wrong/ddim_prev_wraps]
        [--race '{"guidance_scale": 2.0}' ...]

Runs exercises/sampler-race/race.py in this process with a case's module as `solution` (trusted
code only: the exercise's own solution and labelled cases), scores every rung's FID against the
public part of the test split as the judge does (grader/race.py) and prints the ladder and the
steps to the profile's target, per seed and as a mean.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
import types

import torch
from safetensors.torch import load as load_tensors

from grader.materialize import materialize
from grader.race import race_weights, rung_fids, steps_to_target
from grader.spec import load_exercise

SLUG = "sampler-race"


class Budget:
    def __init__(self, options: dict):
        self.options, self.device = options, "cpu"


def case_module(exercise, name: str) -> types.ModuleType:
    """The solution, or a right/ or wrong/ case, as the module `solution`."""
    cases = {"solution": exercise.solution(), **{f"right/{c.name}": c for c in exercise.right_cases()},
             **{f"wrong/{c.name}": c for c in exercise.wrong_cases()}}
    if name not in cases:
        sys.exit(f"unknown case {name!r}; known: {sorted(cases)}")
    module = types.ModuleType("solution")
    exec(compile(materialize("solution.py", cases[name].source().encode()), name, "exec"), module.__dict__)
    return module


def race(exercise, module: types.ModuleType, settings: dict | None, profile_name: str, seed: int) -> dict:
    training = exercise.training
    profile = training.profile(profile_name)
    if settings is not None:
        module.RACE = settings
    sys.modules["solution"] = module
    spec = importlib.util.spec_from_file_location("race_program", training.program)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    state = load_tensors(race_weights(training))
    started = time.perf_counter()
    images = program.sample(state, profile.n_samples, torch.Generator().manual_seed(seed),
                            Budget(training.options(profile)))
    seconds = time.perf_counter() - started
    rungs = training.rungs(profile)
    fids = rung_fids(images.numpy(), rungs, training.dataset, "public")
    target = float(training.options(profile)["target_fid"])
    return {"fids": fids, "steps": steps_to_target(rungs, fids, target), "seconds": seconds, "rungs": rungs,
            "target": target}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--case", default="solution")
    parser.add_argument("--race", action="append", type=json.loads, help="RACE settings (JSON); repeatable")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in the sandbox
    exercise = load_exercise(SLUG)
    for settings in args.race or [None]:
        modules = [case_module(exercise, args.case) for _ in args.seeds]
        runs = [race(exercise, module, settings, args.profile, seed)
                for module, seed in zip(modules, args.seeds, strict=True)]
        chosen = getattr(modules[0], "RACE", None)
        label = json.dumps(chosen) if chosen else "defaults"
        for seed, run in zip(args.seeds, runs, strict=True):
            ladder = ", ".join(f"{r}: {f:.1f}" if f is not None else f"{r}: -"
                               for r, f in zip(run["rungs"], run["fids"], strict=True))
            steps = f"{run['steps']:.2f}" if run["steps"] is not None else "not reached"
            print(f"{args.case} {label} seed {seed}: steps to FID "
                  f"{run['target']:g}: {steps} (FID by steps {ladder}; sampled in {run['seconds']:.1f} s)")
        reached = [r["steps"] for r in runs if r["steps"] is not None]
        if len(runs) > 1:
            mean = f"{statistics.mean(reached):.2f}" if len(reached) == len(runs) else \
                f"reached in {len(reached)} of {len(runs)}"
            print(f"  mean over seeds {args.seeds}: {mean}")


if __name__ == "__main__":
    main()
