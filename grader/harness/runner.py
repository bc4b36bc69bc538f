"""In the worker process: imports the submission and runs the probes, one message per probe; then,
for a "train" or "sample" job, imports the program and hands over to training.py."""
from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import sys
import time
import traceback

import torch
from safetensors.torch import save as save_tensors

from . import guards, objects, training
from .values import Encoder, resolve

MAX_TRACEBACK = 4000
_rand = torch.rand  # bound now: a submission that replaces torch.rand cannot fake the draw after a call


class ProbeTimeout(BaseException):
    """Raised by the soft per-call alarm; a BaseException so `except Exception` in
    student code does not swallow it."""


def _on_alarm(signum, frame):
    raise ProbeTimeout()


@contextlib.contextmanager
def time_limit(seconds: float):
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def describe_error(exc: BaseException, paths: tuple[str, ...], seconds: float) -> dict:
    """The exception as the student reads it: the traceback shows frames of `paths` only."""
    if isinstance(exc, ProbeTimeout):
        return {"type": "Timeout", "message": f"did not return within {seconds:g} s"}
    if isinstance(exc, SystemExit):
        return {"type": "SystemExit", "message": f"called exit({exc.code!r})"}
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in paths]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    text = "".join(lines)
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:1000],
        "traceback": text[-MAX_TRACEBACK:],
    }


def import_file(folder: str, module: str, source: str):
    """Write `source` as folder/module.py and import it as `module` (folder goes first on sys.path)."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, module + ".py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)
    sys.path.insert(0, folder)
    module_spec = importlib.util.spec_from_file_location(module, path)
    imported = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = imported
    module_spec.loader.exec_module(imported)
    return imported, path


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(((a == b) | (a.isnan() & b.isnan())).all()) if a.is_floating_point() else torch.equal(a, b)


def run_call(call: dict, module, tensors, objs, encoder: Encoder, timeout: float, path: str) -> dict:
    target = objs[call["object"]] if "object" in call else getattr(module, call["fn"], None)
    if target is None:
        return {"ok": False, "error": {"type": "MissingName", "message": f"your module does not define `{call['fn']}`"}}
    args = [resolve(r, tensors, objs) for r in call.get("args", [])]
    kwargs = {k: resolve(r, tensors, objs) for k, r in call.get("kwargs", {}).items()}
    grad = call.get("grad")
    for key in grad["wrt"] if grad else []:
        holder, index = (args, key) if isinstance(key, int) else (kwargs, key)
        holder[index] = holder[index].detach().requires_grad_(True)
    inputs = list(enumerate(args)) + list(kwargs.items())
    before = {k: v.detach().clone() for k, v in inputs if isinstance(v, torch.Tensor)}

    returns, record = [], {"ok": True}
    started = time.perf_counter()
    try:
        with time_limit(timeout):
            if call.get("seed") is not None:
                torch.manual_seed(int(call["seed"]))
            for _ in range(int(call.get("repeat", 1))):
                returns.append(target(*args, **kwargs))
            if call.get("record_grad"):  # each parameter's .grad as the call left it, before we differentiate
                record["grad_fields"] = {name: {k: encoder.tensor(v.grad) if v.grad is not None else {"none": True}
                                                for k, v in objs[name].named_parameters()}
                                         for name in call["record_grad"]}
            if call.get("draw_after"):  # the global generator's state after the call: was it reseeded?
                record["drawn_after"] = encoder.tensor(_rand(min(int(call["draw_after"]), 1024), dtype=torch.float64))
            if call.get("param_grads"):
                record["param_grads"] = _param_grads(returns[0], call, objs, tensors, encoder)
            if grad:
                record["grads"] = _backward(returns[0], grad, args, kwargs, tensors, encoder)
    except BaseException as exc:  # the student's exception is a result, not our crash
        record = {"ok": False, "error": describe_error(exc, (path,), timeout)}
    record["seconds"] = time.perf_counter() - started
    record["returns"] = [encoder.value(r) for r in returns]
    record["mutated"] = [k for k, v in inputs if isinstance(v, torch.Tensor) and not _same(before[k], v.detach())]
    record["state"] = {name: {k: encoder.tensor(v) for k, v in objs[name].state_dict().items()}
                       for name in call.get("record_state", [])}
    record["forbidden"] = guards.take()
    return record


def _param_grads(out, call: dict, objs: dict, tensors, encoder: Encoder) -> dict:
    """d(sum(upstream * out))/d parameter for every parameter of the objects call["param_grads"]["of"] names,
    by torch.autograd.grad (no parameter's .grad is touched; the graph is kept for a later "grad"). A
    parameter the result does not depend on, or that no longer requires grad, comes back as none."""
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"expected a tensor to differentiate, got {type(out).__name__}")
    spec = call["param_grads"]
    upstream = tensors[spec["upstream"]] if spec.get("upstream") else None
    named = [(name, key, param) for name in spec["of"] for key, param in objs[name].named_parameters()]
    live = [(name, key, param) for name, key, param in named if param.requires_grad]
    grads: list = [None] * len(live)
    if out.requires_grad and live:
        grads = list(torch.autograd.grad(out, [param for *_, param in live], grad_outputs=upstream,
                                         retain_graph=True, allow_unused=True))
    result: dict = {name: {key: {"none": True} for n, key, _ in named if n == name} for name in spec["of"]}
    for (name, key, _), g in zip(live, grads, strict=True):
        if g is not None:
            result[name][key] = encoder.tensor(g)
    return result


def _backward(out, grad: dict, args, kwargs, tensors, encoder: Encoder) -> dict:
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"expected a tensor to differentiate, got {type(out).__name__}")
    upstream = tensors[grad["upstream"]] if grad.get("upstream") else None
    if not out.requires_grad:
        return {str(key): {"none": True} for key in grad["wrt"]}
    torch.autograd.backward(out, grad_tensors=upstream)
    result = {}
    for key in grad["wrt"]:
        value = args[key] if isinstance(key, int) else kwargs[key]
        result[str(key)] = encoder.tensor(value.grad) if value.grad is not None else {"none": True}
    return result


def run_probe(probe: dict, module, tensors, timeout: float, path: str) -> tuple[dict, bytes]:
    encoder = Encoder(probe["id"])
    payload: dict = {"id": probe["id"], "calls": []}
    objs: dict = {}
    try:
        with time_limit(timeout):
            for name, spec in probe.get("objects", {}).items():
                objs[name] = objects.build(spec, tensors, objs, module)
    except BaseException as exc:
        payload["error"] = describe_error(exc, (path,), timeout)
        payload["forbidden"] = guards.take()
        return payload, b""
    for call in probe["calls"]:
        payload["calls"].append(run_call(call, module, tensors, objs, encoder, timeout, path))
        if not payload["calls"][-1]["ok"] and call.get("stop_on_error", True):
            break
    try:
        blob = save_tensors(encoder.tensors) if encoder.tensors else b""
    except Exception as exc:  # e.g. a tensor subclass that breaks serialisation
        return {"id": probe["id"], "error": {"type": "OutputError",
                                             "message": f"the results could not be sent back ({exc})"[:500]}}, b""
    return payload, blob


def _flush_student_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def run_job(spec: dict, tensors: dict, emit, *, scratch: str, guard_mode, timings: dict) -> None:
    """Import the submission and run the probes under the guards; then train or sample
    (outside the guards, without the per-call alarm) if the job's mode says so."""
    timeout = float(spec.get("probe_timeout_s", 10))
    mode = spec.get("mode", "probes")
    started = time.monotonic()
    training.install_support(spec.get("support") or {}, scratch)
    context = guard_mode if guard_mode is not None else contextlib.nullcontext()
    with context:
        emit("phase", {"phase": "import"})
        submission = spec["submission"]
        path = os.path.join(scratch, "submission", submission["module"] + ".py")
        try:
            with time_limit(timeout):
                module, path = import_file(os.path.join(scratch, "submission"), submission["module"],
                                           submission["source"])
        except BaseException as exc:
            _flush_student_streams()
            emit("done", {"import_error": describe_error(exc, (path,), timeout)})
            return
        import_forbidden = guards.take()
        timings["student_import_s"] = time.monotonic() - started
        for probe in spec.get("probes", []):
            emit("phase", {"probe": probe["id"]})
            payload, blob = run_probe(probe, module, tensors, timeout, path)
            _flush_student_streams()
            emit("probe", payload, blob)
    timings["probes_s"] = time.monotonic() - started - timings["student_import_s"]
    if mode in ("train", "sample"):
        _train_or_sample(mode, spec, tensors, module, path, emit, scratch)
        timings[f"{mode}_s"] = time.monotonic() - started - timings["student_import_s"] - timings["probes_s"]
    _flush_student_streams()
    emit("done", {
        "import_forbidden": import_forbidden,
        "versions": {"torch": torch.__version__, "python": sys.version.split()[0]},
        "timings": timings,
    })


def _train_or_sample(mode: str, spec: dict, state: dict, module, path: str, emit, scratch: str) -> None:
    """Frames: "checkpoint" then "training" for a train job, "samples" then "sampling" for a sample job."""
    emit("phase", {"phase": mode})
    paths = (path,)
    try:
        program = module
        if spec.get("program"):
            program, program_path = import_file(os.path.join(scratch, "program"), spec["program"]["module"],
                                                spec["program"]["source"])
            paths += (program_path,)
        prefix = spec.get("state_prefix")  # a race's job also carries the probes' tensors: the state is the
        if prefix:  # tensors named with this prefix
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        payload = training.train(spec, program, emit) if mode == "train" else \
            training.sample(spec, program, state, emit)
    except BaseException as exc:  # the program's import failed: the student's functions are missing or broken
        payload = {"error": exc}
    if "error" in payload:
        payload["error"] = describe_error(payload["error"], paths, 0)
    _flush_student_streams()
    emit("training" if mode == "train" else "sampling", payload)
