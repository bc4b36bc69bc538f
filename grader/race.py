"""A sampler race (`[training.race]`, DESIGN.md §3): the student's DDIM step and guidance on fixed weights.

Nothing is trained. One sandbox runs the core exercise's probes and then the exercise's program,
which samples the race's weights with the student's functions once per rung of the profile's
ladder (`rungs`, numbers of DDIM steps, `n_samples` images each). On the trusted side the judge
scores each rung's FID against the test split and ranks the steps the sampler needs to reach the
profile's `target_fid`: the first rung at or below the target, interpolated linearly in
(log steps, log FID) from the rung before it, so that two samplers that cross at the same rung
are still told apart. The scored rung (the first at or below the target, else the last) gets the
full treatment: KID, the FID interval, the memorisation check and the result's sample grid; the
rung before it, which the interpolation also reads, is checked for memorisation too.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from .harness import protocol
from .memorisation_report import memorisation_block
from .metrics.features import fashion_extractor
from .metrics.frechet import GaussianStats, frechet_distance_stats
from .metrics.leaderboard import GeneratedScore, memorisation_check, score_generated
from .metrics.reference import reference_stats
from .metrics.score import board_fields
from .numbers import finite_or_none
from .spec import TrainingProfile, TrainingSpec

STATE_PREFIX = "state/"  # the weights' tensor names in a job that also carries the probes' tensors


def race_weights(training: TrainingSpec) -> bytes:
    """The race's weights, refused unless they match the SHA-256 of their card."""
    race = training.race
    assert race is not None  # only races come here
    blob = (training.repo_root / race.weights).read_bytes()
    expected = json.loads(race.card(training.repo_root).read_text())["sha256"]
    if hashlib.sha256(blob).hexdigest() != expected:
        raise OSError(f"{race.weights} does not match the SHA-256 of its card")
    return blob


def job_tensors(probe_blob: bytes, weights: bytes) -> bytes:
    """One safetensors blob with the probes' inputs and the weights under STATE_PREFIX."""
    tensors = load_tensors(probe_blob) if probe_blob else {}
    tensors.update({STATE_PREFIX + name: t for name, t in load_tensors(weights).items()})
    return save_tensors(tensors)


def encode_race_job(spec: dict, probe_blob: bytes, weights: bytes) -> bytes:
    return protocol.encode_job({**spec, "state_prefix": STATE_PREFIX}, job_tensors(probe_blob, weights))


def steps_to_target(rungs: list[int], fids: list[float | None], target: float) -> float | None:
    """The steps at which FID first reaches `target`: the first rung at or below it, interpolated in
    (log steps, log FID) from the rung before it; the first rung's steps if that one already is; None
    if no rung reaches it (a rung without an FID counts as not reaching it)."""
    for i, (steps, fid) in enumerate(zip(rungs, fids, strict=True)):
        if fid is None or not fid <= target:
            continue
        before = fids[i - 1] if i else None
        if before is None or fid <= 0 or not before > target:
            return float(steps)
        share = (math.log(before) - math.log(target)) / (math.log(before) - math.log(fid))
        return math.exp(math.log(rungs[i - 1]) + share * (math.log(steps) - math.log(rungs[i - 1])))
    return None


@dataclass(frozen=True)
class RaceScore:
    target_fid: float
    rungs: list[int]
    fids: list[float | None]  # each rung's FID (None: not finite)
    steps: float | None  # steps_to_target; None: the ladder never reached the target
    scored_rung: int  # the rung `scored` belongs to
    scored: GeneratedScore  # the full score of that rung's samples
    n: int  # images per rung

    @property
    def label(self) -> str:
        return f"DDIM steps to {self.scored.label} ≤ {self.target_fid:g}"

    def board(self) -> dict:
        """The training block's board fields: `fid` holds the ranked steps (TrainingSpec.metric)."""
        fields = board_fields(self.scored)
        rung_fid, rung_kid = fields.pop("fid"), fields.pop("kid")
        fields.pop("fid_interval", None)  # FID's interval, not one of the steps
        fields.pop("fid_bootstrap", None)
        return {**fields, "fid": self.steps, "fid_label": self.label, "kid": None, "kid_std": None,
                "race": {"target_fid": self.target_fid, "scored_rung": self.scored_rung,
                         "scored_fid": rung_fid, "scored_kid": rung_kid,
                         "rungs": [{"steps": r, "fid": f} for r, f in zip(self.rungs, self.fids, strict=True)]}}


def rung_fids(images: np.ndarray, rungs: list[int], dataset: str, part: str | None) -> list[float | None]:
    """FID of each rung's block of images (the sandbox returns them rung by rung)."""
    extractor = fashion_extractor()
    ref = reference_stats(dataset, "test", extractor, None, part)
    n = len(images) // len(rungs)
    return [finite_or_none(float(frechet_distance_stats(GaussianStats.from_features(extractor(block)), ref.stats)))
            for block in np.split(images[: n * len(rungs)], len(rungs))]


def score_race(outcome, training: TrainingSpec, profile: TrainingProfile, part: str | None = "public") -> None:
    """Fill `outcome` (a TrainingOutcome whose samples are every rung's images) with the race's score,
    the memorisation check of the two rungs the steps depend on (the scored rung and the one before;
    the worse is reported), and the scored rung's images as the samples of the grid."""
    images = outcome.samples
    assert images is not None  # scored only once validated samples came back
    rungs, target = training.rungs(profile), float(training.options(profile)["target_fid"])
    fids = rung_fids(images, rungs, training.dataset, part)
    steps = steps_to_target(rungs, fids, target)
    index = next((i for i, f in enumerate(fids) if f is not None and f <= target), len(rungs) - 1)
    n = profile.n_samples
    block = images[index * n:(index + 1) * n]
    scored = score_generated(block, dataset=training.dataset, n_required=n, kid_subset_size=min(1000, n), part=part)
    assert scored.memorisation is not None  # score_generated checks for memorisation by default
    outcome.race = RaceScore(target, rungs, fids, steps, rungs[index], scored, n)
    memorised, memorised_block = scored.memorisation, block
    if index > 0:  # the rung before also decides the interpolated steps: copies there would lower them
        before = images[(index - 1) * n:index * n]
        checked = memorisation_check(before, dataset=training.dataset)
        if checked.share > memorised.share:
            memorised, memorised_block = checked, before
    outcome.memorisation = memorisation_block(memorised, memorised_block, training.dataset)
    outcome.samples = block
