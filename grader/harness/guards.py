"""Runtime record of calls to APIs an exercise asks students not to delegate to.

Two nets: a TorchFunctionMode sees every torch function by name (so
`F.scaled_dot_product_attention`, `torch.ops.aten._scaled_dot_product_*` and
`nn.MultiheadAttention` are all seen), and wrappers around pure-Python
functions (`torch.distributions.kl_divergence` and the registered KL
functions) that the mode cannot see. The judge also scans the source
statically; this guard catches what a static scan cannot (getattr tricks).
"""
from __future__ import annotations

import fnmatch
import functools
import importlib

from torch.overrides import TorchFunctionMode

SEEN: list[str] = []  # distinct names only: a guarded call in a training loop must not grow it


def _note(name: str) -> None:
    if name not in SEEN:
        SEEN.append(name)


class ForbiddenTorchFunctions(TorchFunctionMode):
    def __init__(self, patterns: list[str]):
        super().__init__()
        self.patterns = [p.lower() for p in patterns]

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", None) or str(func)
        lowered = name.lower()
        if any(p in lowered for p in self.patterns):
            _note(name)
        return func(*args, **(kwargs or {}))


def _recording(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _note(name)
        return fn(*args, **kwargs)

    return wrapper


def _wrap_attribute(module, attr: str, label: str) -> None:
    original = getattr(module, attr, None)
    if callable(original):
        setattr(module, attr, _recording(label, original))


def install(spec: dict) -> TorchFunctionMode | None:
    """Wrap the Python callables named in spec["python"] ("module:attr", glob allowed
    in attr) and return the torch-function mode for spec["torch_function_patterns"]."""
    for target in spec.get("python", []):
        module_name, _, pattern = target.partition(":")
        module = importlib.import_module(module_name)
        for attr in [a for a in vars(module) if fnmatch.fnmatchcase(a, pattern)]:
            _wrap_attribute(module, attr, f"{module_name}.{attr}")
    if spec.get("kl_registry"):
        from torch.distributions import kl

        for key, fn in list(kl._KL_REGISTRY.items()):
            kl._KL_REGISTRY[key] = _recording(f"torch.distributions.kl.{fn.__name__}", fn)
        kl._KL_MEMOIZE.clear()
    patterns = spec.get("torch_function_patterns", [])
    return ForbiddenTorchFunctions(patterns) if patterns else None


def take() -> list[str]:
    """The forbidden calls seen since the last take(), in order."""
    seen = list(SEEN)
    SEEN.clear()
    return seen
