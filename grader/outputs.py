"""Reading back what the sandbox sent: untrusted input, validated on every access.

Nothing here executes or unpickles anything: frames are JSON plus safetensors,
and every value a check asks for is checked for type, dtype and shape first.
A malformed or missing value becomes a CheckFailure with a student-facing message.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors

from .feedback import CheckFailure
from .untrusted import untrusted

ALLOWED_DTYPES = {
    "float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
}


def _describe_error(error: dict) -> str:
    """The student's exception as feedback: its type, message and traceback are the submission's text."""
    kind, message = str(error.get("type", "Error"))[:100], str(error.get("message", ""))[:1000]
    text = f"raised {untrusted(f'{kind}: {message}')}" if kind not in ("Timeout", "MissingName") else untrusted(message)
    tb = str(error.get("traceback", ""))
    return text + (untrusted(tb[-2000:], block=True) if tb else "")


@dataclass
class CallOutput:
    """One call's outputs, decoded lazily and validated on access."""

    description: str
    raw: dict
    tensors: dict[str, torch.Tensor]

    def _decode(self, enc, what: str):
        if not isinstance(enc, dict):
            raise CheckFailure(f"`{self.description}`: the grader could not read {what}.")
        if "tensor" in enc:
            key = enc.get("tensor")
            if enc.get("unsupported") or key not in self.tensors:
                reason = str(enc.get("unsupported") or "its data did not come back")[:200]
                raise CheckFailure(f"`{self.description}` returned a tensor the grader cannot read ({what}): {reason}.")
            t = self.tensors[key]
            if str(t.dtype).removeprefix("torch.") not in ALLOWED_DTYPES:
                raise CheckFailure(f"`{self.description}` returned a {t.dtype} tensor ({what}).")
            return TensorValue(t, device=str(enc.get("device", "cpu")), requires_grad=bool(enc.get("requires_grad")))
        if "float" in enc:  # non-finite floats travel as their repr ("nan", "inf", "-inf")
            v = enc["float"]
            return float(v) if isinstance(v, (int, float)) or v in ("nan", "inf", "-inf") else OpaqueValue("float")
        for kind in ("none", "bool", "int", "str"):
            if kind in enc:
                return None if kind == "none" else enc[kind]
        if "dict" in enc and isinstance(enc["dict"], dict):
            return {k: self._decode(v, what) for k, v in enc["dict"].items()}
        if "list" in enc and isinstance(enc["list"], list):
            items = [self._decode(v, what) for v in enc["list"]]
            return tuple(items) if enc.get("tuple") else items
        return OpaqueValue(str(enc.get("object", "?"))[:100])

    def value(self, index: int = 0):
        returns = self.raw.get("returns")
        if not isinstance(returns, list) or index >= len(returns):
            raise CheckFailure(f"`{self.description}` returned nothing the grader could read.")
        return self._decode(returns[index], "its return value")

    def values(self) -> list:
        return [self.value(i) for i in range(len(self.raw.get("returns") or []))]

    def tensor(self, index: int = 0) -> TensorValue:
        v = self.value(index)
        if not isinstance(v, TensorValue):
            raise CheckFailure(
                f"`{self.description}` returned {type_name(v)}; a `torch.Tensor` was expected.")
        return v

    def drawn_after(self) -> torch.Tensor:
        """What torch's global generator gave right after the call (Call.draw_after)."""
        v = self._decode(self.raw.get("drawn_after"), "the draw from the global generator after the call")
        if not isinstance(v, TensorValue):
            raise CheckFailure(f"`{self.description}`: the grader could not read the global generator after the call.")
        return v.data

    def grad(self, key) -> torch.Tensor | None:
        grads = self.raw.get("grads")
        if not isinstance(grads, dict) or str(key) not in grads:
            raise CheckFailure(f"`{self.description}`: no gradient information came back.")
        v = self._decode(grads[str(key)], f"the gradient of argument {key}")
        return v.data if isinstance(v, TensorValue) else None

    def _per_parameter(self, field: str, obj: str, what: str) -> dict[str, torch.Tensor | None]:
        recorded = self.raw.get(field)
        if not isinstance(recorded, dict) or not isinstance(recorded.get(obj), dict):
            raise CheckFailure(f"`{self.description}`: the {what} of {obj}'s parameters did not come back.")
        out: dict[str, torch.Tensor | None] = {}
        for name, enc in recorded[obj].items():
            v = self._decode(enc, f"the {what} of {obj}'s parameter {name}")
            if v is not None and not isinstance(v, TensorValue):
                raise CheckFailure(f"`{self.description}`: the {what} of {obj}'s parameter {name} is not a tensor.")
            out[str(name)] = v.data if isinstance(v, TensorValue) else None
        return out

    def param_grads(self, obj: str) -> dict[str, torch.Tensor | None]:
        """{parameter name: d(result)/d parameter, None where the result does not depend on it} (Call.param_grads)."""
        return self._per_parameter("param_grads", obj, "gradients of the result")

    def grad_fields(self, obj: str) -> dict[str, torch.Tensor | None]:
        """{parameter name: its `.grad` right after the call, or None} (Call.record_grad)."""
        return self._per_parameter("grad_fields", obj, "`.grad`")

    def state(self, obj: str) -> dict[str, torch.Tensor]:
        states = self.raw.get("state")
        if not isinstance(states, dict) or not isinstance(states.get(obj), dict):
            raise CheckFailure(f"`{self.description}`: the parameters of {obj} did not come back.")
        out = {}
        for name, enc in states[obj].items():
            v = self._decode(enc, f"parameter {name} of {obj}")
            if not isinstance(v, TensorValue):
                raise CheckFailure(f"`{self.description}`: parameter {name} of {obj} is not a tensor.")
            out[name] = v.data
        return out

    @property
    def mutated(self) -> list:
        m = self.raw.get("mutated")
        return [x for x in m if isinstance(x, (int, str))] if isinstance(m, list) else []

    @property
    def seconds(self) -> float:
        s = self.raw.get("seconds")
        return float(s) if isinstance(s, (int, float)) else 0.0


@dataclass
class TensorValue:
    data: torch.Tensor
    device: str = "cpu"
    requires_grad: bool = False


@dataclass
class OpaqueValue:
    type_name: str


def type_name(v) -> str:
    if isinstance(v, TensorValue):
        return f"a tensor of shape {tuple(v.data.shape)}"
    if isinstance(v, OpaqueValue):  # the submission names its own types
        return f"an object of type {untrusted(v.type_name)}"
    return f"`{v!r}`" if v is None or isinstance(v, (bool, int, float)) else f"a {type(v).__name__}"


@dataclass
class Run:
    """Everything one sandbox run sent back, keyed by probe id."""

    probes: dict[str, dict] = field(default_factory=dict)
    blobs: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    descriptions: dict[str, list[str]] = field(default_factory=dict)
    import_error: dict | None = None
    stopped_reason: str = "the grading stopped before this part ran"
    forbidden_at_import: list[str] = field(default_factory=list)

    def add_probe(self, payload: dict, blob: bytes) -> bool:
        """Store a probe's frame; False (stored nothing) for a probe we did not plan or a second frame of one."""
        probe_id = payload.get("id")
        if not isinstance(probe_id, str) or probe_id not in self.descriptions or probe_id in self.probes:
            return False
        try:
            tensors = load_tensors(blob) if blob else {}
        except (SafetensorError, ValueError, RuntimeError):
            tensors = {}
        self.probes[probe_id] = payload
        self.blobs[probe_id] = tensors
        return True

    def call(self, probe_id: str, index: int = 0, *, allow_error: bool = False) -> CallOutput:
        """A call's outputs; raises CheckFailure if the call did not run, failed or delegated."""
        description = self.descriptions[probe_id][index]
        if self.import_error is not None:
            raise CheckFailure(f"Your module could not be imported, so `{description}` was not run: "
                               + _describe_error(self.import_error))
        payload = self.probes.get(probe_id)
        if payload is None:
            raise CheckFailure(f"`{description}` did not run: {self.stopped_reason}.")
        if isinstance(payload.get("error"), dict):
            raise CheckFailure(f"Setting up `{description}` failed: " + _describe_error(payload["error"]))
        calls = payload.get("calls")
        if not isinstance(calls, list) or index >= len(calls) or not isinstance(calls[index], dict):
            raise CheckFailure(f"`{description}` did not run because an earlier call in this check failed.")
        raw = calls[index]
        forbidden = [str(f)[:100] for f in raw.get("forbidden", []) if isinstance(f, str)]
        if forbidden:
            raise CheckFailure(
                f"`{description}` called {untrusted(forbidden[0])}, which this exercise asks you to implement "
                "yourself, so this part earns no marks.",
                hint="Write the computation with basic tensor operations instead of the library function.")
        if raw.get("ok") is not True and not allow_error:
            raise CheckFailure(f"`{description}` " + _describe_error(raw.get("error") or {}))
        return CallOutput(description, raw, self.blobs.get(probe_id, {}))

    def any_call_succeeded(self) -> bool:
        if self.import_error is not None:
            return False
        return any(isinstance(call, dict) and call.get("ok") is True
                   for payload in self.probes.values() if isinstance(payload.get("calls"), list)
                   for call in payload["calls"])

    def all_forbidden(self) -> list[str]:
        seen = list(self.forbidden_at_import)
        for payload in self.probes.values():
            for call in payload.get("calls", []) if isinstance(payload.get("calls"), list) else []:
                if isinstance(call, dict) and isinstance(call.get("forbidden"), list):
                    seen += [str(f)[:100] for f in call["forbidden"] if isinstance(f, str)]
        return list(dict.fromkeys(seen))
