"""Hostile submissions that reach a forbidden library function without naming it, graded
through the real Docker sandbox with the real attention and vae-elbo exercises.

Each case fetches the forbidden function (or switches off the runtime guard) in its own way and
otherwise computes the right answer. Every one must end with `not_delegated` failed and a
message that names the construct (docs/delegation.md lists what the scan refuses).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.judge import grade
from grader.spec import load_exercise

pytestmark = pytest.mark.docker  # every test here grades in the real sandbox

# The rest of a delegating attention submission (the labelled wrong case's), after the line that binds
# `_attend`: each case binds it its own way.
_GETATTR_CASE = (Path(__file__).resolve().parents[2] / "exercises" / "attention" / "wrong"
                 / "delegates_getattr.py").read_text()
ATTENTION_TAIL = _GETATTR_CASE[_GETATTR_CASE.index("\n", _GETATTR_CASE.index("_attend = ")):]

ELBO_TAIL = '''
def gaussian_kl(mu, logvar):
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return _kl(q, p).sum(-1)


def negative_elbo(x, recon_logits, mu, logvar):
    bce = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none").flatten(1).sum(1)
    return (bce + gaussian_kl(mu, logvar)).mean()
'''

HEADER = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nfrom torch.distributions import Normal\n"
SDPA = '"scaled_" + "dot_product_attention"'  # the name, built at run time
KL = '"kl_" + "divergence"'

# (case, prelude that binds _attend, a fragment the message must name)
ATTENTION = [
    ("computed_getattr", f"_attend = getattr(F, {SDPA})", "getattr"),
    ("function_mode_switched_off", f"""
        _library = getattr(F, {SDPA})

        def _attend(*args, **kwargs):
            with torch._C.DisableTorchFunction():
                return _library(*args, **kwargs)
        """, "torch._C"),
    ("mode_stack_popped", f"""
        import torch.overrides
        _library = getattr(F, {SDPA})

        def _attend(*args, **kwargs):
            with torch.overrides._pop_mode_temporarily():
                return _library(*args, **kwargs)
        """, "torch.overrides"),
    ("dunder_import", f"_attend = getattr(__import__('torch.nn.functional', fromlist=['F']), {SDPA})", "__import__"),
    ("importlib", "import importlib\n"
                  "_attend = importlib.import_module('torch.nn.functional').scaled_dot_product_attention", "importlib"),
    ("sys_modules", "import sys\n_attend = sys.modules['torch.nn.functional'].scaled_dot_product_attention", "sys"),
    ("sys_through_torch", "_attend = torch.sys.modules['torch.nn.functional'].scaled_dot_product_attention",
     "torch.sys"),
    ("builtins_module", f"import builtins\n_attend = builtins.getattr(F, {SDPA})", "builtins"),
    ("eval", "_attend = eval('F.scaled_dot_product_' + 'attention')", "eval()"),
    ("exec", "_ns = {'F': F}\nexec('A = F.scaled_dot_product_' + 'attention', _ns)\n_attend = _ns['A']", "exec()"),
    ("compile", "_code = compile('F.scaled_dot_product_attention', 'x', 'eval')\n_attend = eval(_code)", "compile()"),
    ("module_dict", f"_attend = F.__dict__[{SDPA}]", ".__dict__"),
    ("vars", f"_attend = vars(F)[{SDPA}]", "vars()"),
    ("globals", "_attend = globals()['F'].scaled_dot_product_attention", "globals()"),
    ("function_globals", f"_attend = F.softmax.__globals__[{SDPA}]", ".__globals__"),
    ("reduce_getattr", "import functools\n_attend = functools.reduce(getattr, ['nn', 'functional', "
                       "'scaled_dot_product_attention'], torch)", "getattr"),
    ("attrgetter", "import operator\n_attend = operator.attrgetter('nn.functional.scaled_dot_'"
                   " + 'product_attention')(torch)", "operator.attrgetter"),
    ("star_import_before_own_definition", "from torch.nn.functional import *\n"
                                          "_attend = scaled_dot_product_attention", "import *"),
    ("traceback_frames", """
        def _namespace():
            try:
                raise RuntimeError
            except RuntimeError as error:
                return error.__traceback__.tb_frame.f_globals

        _attend = _namespace()['F'].scaled_dot_product_attention
        """, ".__traceback__"),
    ("inspect", f"import inspect\n_attend = dict(inspect.getmembers(F))[{SDPA}]", "inspect"),
    ("gc_walk", """
        import gc
        _attend = next(o for o in gc.get_objects()
                       if callable(o) and getattr(o, '__name__', '') == 'scaled_dot_product_' + 'attention'
                       and getattr(o, '__module__', '') == 'torch._C._nn')
        """, "gc"),
    ("pickle", "import pickle\n_attend = pickle.loads(b'ctorch.nn.functional\\nscaled_dot_product_attention\\n.')",
     "pickle"),
    ("pydoc_locate", "import pydoc\n_attend = pydoc.locate('torch.nn.functional.scaled_dot_product_' + 'attention')",
     "pydoc"),
    ("string_formatter", f"import string\n_attend = string.Formatter().get_field('0.' + {SDPA}, [F], {{}})[0]",
     "string"),
    ("string_annotation", """
        import typing

        def _typed(x: "F.scaled_dot_product_attention"):
            pass

        _attend = typing.get_type_hints(_typed)['x']
        """, "typing.get_type_hints"),
    ("private_kernel", "_attend = torch._C._nn.scaled_dot_product_attention", "torch._C"),
    ("ops_namespace", "_attend = torch.ops.aten.scaled_dot_product_attention", "torch.ops"),
]

ELBO = [
    ("computed_getattr", f"_kl = getattr(torch.distributions, {KL})", "getattr"),
    ("registry", "from torch.distributions import kl as _registry\n"
                 "_kl = lambda p, q: _registry._KL_REGISTRY[(Normal, Normal)](p, q)", "_KL_REGISTRY"),
    ("guard_unwrapped", f"_kl = getattr(torch.distributions, {KL}).__wrapped__", ".__wrapped__"),
    ("private_function_by_computed_name", "import torch.distributions.kl\n"
                                          "_kl = getattr(torch.distributions.kl, '_kl_normal_' + 'normal')", "getattr"),
    ("dunder_import", f"_kl = getattr(__import__('torch.distributions', fromlist=['x']), {KL})", "__import__"),
    ("importlib", "import importlib\n_kl = importlib.import_module('torch.distributions.kl').kl_divergence",
     "importlib"),
    ("sys_modules", "import sys\n_kl = sys.modules['torch.distributions'].kl_divergence", "sys"),
    ("eval", "_kl = eval('torch.distributions.kl_' + 'divergence')", "eval()"),
    ("module_dict", f"_kl = torch.distributions.__dict__[{KL}]", ".__dict__"),
    ("vars", f"_kl = vars(torch.distributions)[{KL}]", "vars()"),
    ("reduce_getattr", "import functools\n_kl = functools.reduce(getattr, ['distributions', 'kl_divergence'], torch)",
     "getattr"),
    ("star_import", "from torch.distributions import *\n_kl = kl_divergence", "import *"),
    ("pickle", "import pickle\n_kl = pickle.loads(b'ctorch.distributions.kl\\nkl_divergence\\n.')", "pickle"),
    ("string_annotation", """
        import typing

        def _typed(x: "torch.distributions.kl_divergence"):
            pass

        _kl = typing.get_type_hints(_typed)['x']
        """, "typing.get_type_hints"),
]


def _source(prelude: str, tail: str) -> str:
    return HEADER + "\n" + textwrap.dedent(prelude).strip() + "\n\n" + tail


def _grade(slug: str, source: str, sandbox):
    return grade(load_exercise(slug), "solution.py", source.encode(), sandbox=sandbox, seed=0)


def _assert_refused(result, fragment: str) -> None:
    assert result.status == "graded", result.plain_output()
    tests = {t.name: t for t in result.tests}
    verdict = tests["not_delegated"]
    assert verdict.status == "failed", "the hidden delegation earned not_delegated"
    message = verdict.plain_output()
    assert fragment in message, message
    assert "None of your functions ran" not in message  # the construct ran: it is refused, not just broken


@pytest.mark.parametrize("prelude, fragment", [c[1:] for c in ATTENTION], ids=[c[0] for c in ATTENTION])
def test_attention_delegation_hidden_by(prelude, fragment, docker_sandbox):
    _assert_refused(_grade("attention", _source(prelude, ATTENTION_TAIL), docker_sandbox), fragment)


@pytest.mark.parametrize("prelude, fragment", [c[1:] for c in ELBO], ids=[c[0] for c in ELBO])
def test_elbo_delegation_hidden_by(prelude, fragment, docker_sandbox):
    _assert_refused(_grade("vae-elbo", _source(prelude, ELBO_TAIL), docker_sandbox), fragment)


def test_the_issues_attack_ran_unseen_by_the_runtime_guard_and_is_refused_statically(docker_sandbox):
    """The attack as reported: a computed name and function-mode dispatch switched off. The values
    are right (every behaviour check passes), so only the static refusal stands between it and
    full marks."""
    prelude = dict((c[0], c[1]) for c in ATTENTION)["function_mode_switched_off"]
    result = _grade("attention", _source(prelude, ATTENTION_TAIL), docker_sandbox)
    failed = {t.name for t in result.tests if t.status != "passed"}
    assert failed == {"not_delegated"}
    message = {t.name: t for t in result.tests}["not_delegated"].plain_output()
    assert "a call to" not in message  # the runtime guard saw nothing: the scan caught it
    assert "getattr" in message and "torch._C" in message
