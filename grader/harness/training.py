"""Training and sampling inside the sandbox ("train" and "sample" jobs).

No per-call alarm here: the wall clock enforced from outside bounds train() and
sample(), and a "phase" frame before each tells the judge which one ran out.
Frames of a train job: "checkpoint" (the state dict as one safetensors blob), then
"training" (log rows, steps, seconds, or the error); of a sample job: "samples"
(what sample() returned), then "sampling" (seconds, or the error).
"""
from __future__ import annotations

import json
import os
import sys
import time

import torch
from safetensors.torch import load_file
from safetensors.torch import save as save_tensors

from .values import Encoder

MAX_LOG_ROWS = 100_000  # kept in the sandbox; more are counted and dropped
SENT_LOG_ROWS = 1000  # sent back, evenly spaced
MAX_LOG_KEYS = 16  # per row; the judge keeps the first 16 names it sees
PROGRESS_EVERY_S = 3.0  # a "progress" frame (step, latest logged values) at most this often
PATH_MAP_ENV = "DGM_PATH_MAP"  # {container path: host path}, set only by the trusted subprocess runner


class CheckpointError(Exception):
    """train() returned something that cannot be sent back as a checkpoint."""


class Budget:
    """What train() and sample() may spend, and the loss curve they log."""

    def __init__(self, spec: dict, seconds: float, emit=None):
        self.steps = int(spec["steps"])
        self.batch_size = int(spec["batch_size"])
        self.seed = int(spec["seed"])
        self.device = str(spec["device"])
        self.seconds = float(seconds)
        self.options = dict(spec.get("options", {}))
        self.rows: list[dict] = []
        self.logged = 0
        self.steps_done = 0
        self._started = time.monotonic()
        self._emit, self._progress_at, self._latest = emit, float("-inf"), {}

    def time_left(self) -> float:
        return self.seconds - (time.monotonic() - self._started)

    def log(self, step: int, **values: float) -> None:
        """One row of the loss curve, e.g. `budget.log(step, loss=loss.item())`."""
        if len(values) > MAX_LOG_KEYS:
            raise ValueError(f"budget.log accepts at most {MAX_LOG_KEYS} values per row")
        row = {"step": int(step)}
        for key, value in values.items():
            try:
                row[str(key)[:40]] = float(value)
            except (TypeError, ValueError, RuntimeError):
                raise TypeError(f"budget.log({key}=...) needs a number, got {type(value).__name__}") from None
        self.logged += 1
        self.steps_done = max(self.steps_done, row["step"] + 1)
        if len(self.rows) < MAX_LOG_ROWS:
            self.rows.append(row)
        self._latest = {k: v for k, v in row.items() if k != "step"}
        self._progress()

    def should_stop(self, step: int) -> bool:
        """True once `step` reaches the step budget or less than 10 % of the time is left."""
        self.steps_done = max(self.steps_done, int(step))
        self._progress()
        return step >= self.steps or self.time_left() < 0.1 * self.seconds

    def _progress(self) -> None:
        """Live progress for the student's page: the step and the latest logged values, every few seconds."""
        now = time.monotonic()
        if self._emit is not None and now - self._progress_at >= PROGRESS_EVERY_S:
            self._progress_at = now
            self._emit("progress", {"step": self.steps_done, "values": self._latest})

    def report(self) -> dict:
        n = len(self.rows)
        keep = sorted({round(k * (n - 1) / (SENT_LOG_ROWS - 1)) for k in range(SENT_LOG_ROWS)}) \
            if n > SENT_LOG_ROWS else range(n)
        return {"rows": [self.rows[i] for i in keep], "logged": self.logged, "steps": self.steps_done}


def install_support(files: dict[str, str], scratch: str) -> None:
    """Write the public support files under scratch, importable by their dotted names."""
    if not files:
        return
    root = os.path.join(scratch, "support")
    for rel, source in files.items():
        parts = rel.split("/")
        if rel.startswith("/") or ".." in parts or not rel.endswith(".py"):
            raise ValueError(f"bad support path {rel!r}")
        os.makedirs(os.path.join(root, *parts[:-1]), exist_ok=True)
        with open(os.path.join(root, *parts), "w", encoding="utf-8") as f:
            f.write(source)
    for rel in files:
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            init = os.path.join(root, *parts[:depth], "__init__.py")
            if not os.path.exists(init):
                open(init, "w").close()
    sys.path.insert(0, root)


def host_path(path: str) -> str:
    """The container path as the trusted subprocess runner sees it on the host."""
    for container, host in json.loads(os.environ.get(PATH_MAP_ENV, "{}")).items():
        if path == container or path.startswith(container.rstrip("/") + "/"):
            return host + path[len(container):]
    return path


def checkpoint_blob(state, cap: int) -> bytes:
    """train()'s state dict as safetensors: plain CPU tensors, at most `cap` bytes."""
    if not isinstance(state, dict):
        raise CheckpointError(f"train() must return a dict of str -> torch.Tensor, got {type(state).__name__}")
    plain = {}
    with torch._C.DisableTorchFunction():  # a tensor subclass cannot change what we send
        for key, value in state.items():
            if not isinstance(key, str) or not isinstance(value, torch.Tensor):
                raise CheckpointError("train() must return a dict of str -> torch.Tensor; the entry "
                                      f"{str(key)[:60]!r} is a {type(value).__name__}")
            t = value.as_subclass(torch.Tensor).detach()
            if t.is_sparse or t.is_quantized or t.layout != torch.strided:
                raise CheckpointError(f"the checkpoint entry {key[:60]!r} is not a dense tensor")
            plain[key] = t
        size = sum(t.numel() * t.element_size() for t in plain.values())
        if size > cap:
            raise CheckpointError(f"the checkpoint is {size / 1e6:.1f} MB, over the limit of {cap / 1e6:g} MB; "
                                  "keep only the tensors sample() needs")
        copies = {k: t.to("cpu").contiguous().clone() for k, t in plain.items()}  # clone: no shared storage
    try:
        blob = save_tensors(copies)
    except Exception as exc:
        raise CheckpointError(f"the checkpoint could not be saved ({exc})"[:500]) from None
    if len(blob) > cap:
        raise CheckpointError(f"the checkpoint is {len(blob) / 1e6:.1f} MB, over the limit of {cap / 1e6:g} MB")
    return blob


def train(spec: dict, program, emit) -> dict:
    """Run program.train on the training split and emit the checkpoint. Returns the
    "training" payload; an exception (the student's) is returned under "error"."""
    budget = Budget(spec["budget"], spec["budget"]["train_time_s"], emit)
    started = time.monotonic()
    try:
        images = load_file(host_path(spec["data"]))["images"]  # uint8 (N, H, W), the training split only
        state = program.train(images, budget)
        seconds = time.monotonic() - started
        blob = checkpoint_blob(state, int(spec["checkpoint_cap"]))
    except BaseException as exc:  # the student's exception is a result, not our crash
        return {**budget.report(), "seconds": time.monotonic() - started, "error": exc}
    emit("checkpoint", {"bytes": len(blob)}, blob)
    return {**budget.report(), "seconds": seconds}


def sample(spec: dict, program, state: dict, emit) -> dict:
    """Run program.sample with the judge's seed and emit what it returned (frame "samples").
    Returns {"seconds"}, or {"seconds", "error"} if sample() raised."""
    budget = Budget(spec["budget"], spec["budget"]["sample_time_s"])
    generator = torch.Generator().manual_seed(int(spec["sample_seed"]))
    started = time.monotonic()
    try:
        value = program.sample(state, int(spec["n_samples"]), generator, budget)
    except BaseException as exc:
        return {"seconds": time.monotonic() - started, "error": exc}
    seconds = time.monotonic() - started
    encoder = Encoder("samples", budget_bytes=int(spec["samples_cap"]))
    info = encoder.value(value)
    try:
        blob = save_tensors(encoder.tensors) if encoder.tensors else b""
    except Exception as exc:  # e.g. a tensor subclass that breaks serialisation
        info, blob = {"object": f"unsendable tensor ({type(exc).__name__})"}, b""
    emit("samples", {"value": info, "seconds": seconds}, blob)
    return {"seconds": seconds}
