import pytest

from grader.staticscan import hiding, scan

ATTENTION = ["torch.nn.functional.scaled_dot_product_attention", "torch.nn.MultiheadAttention",
             "torch.ops.aten.*attention*"]
KL = ["torch.distributions.kl_divergence", "torch.distributions.kl.*"]


def names(source, patterns):
    return [f.name for f in scan(source, patterns)]


def test_alias_chains_are_resolved():
    src = "import torch.nn.functional as F\ndef f(q, k, v):\n    return F.scaled_dot_product_attention(q, k, v)\n"
    assert names(src, ATTENTION) == ["torch.nn.functional.scaled_dot_product_attention"]
    src = "from torch import nn\nm = nn.MultiheadAttention(4, 2)\n"
    assert names(src, ATTENTION) == ["torch.nn.MultiheadAttention"]
    src = "import torch\nx = torch.ops.aten._scaled_dot_product_attention_math\n"
    assert names(src, ATTENTION) == ["torch.ops.aten._scaled_dot_product_attention_math"]


def test_names_bound_by_from_imports_and_getattr_are_seen():
    src = "from torch.distributions import kl_divergence as k\ndef f(p, q):\n    return k(p, q)\n"
    assert names(src, KL) == ["torch.distributions.kl_divergence"]
    src = "from torch.distributions.kl import _kl_normal_normal\nf = _kl_normal_normal\n"
    assert names(src, KL) == ["torch.distributions.kl._kl_normal_normal"]
    src = "import torch.nn.functional as F\ng = getattr(F, 'scaled_dot_product_attention')\n"
    assert names(src, ATTENTION) == ["torch.nn.functional.scaled_dot_product_attention"]


def test_a_students_own_function_of_the_same_name_is_fine():
    src = (
        "import torch\n"
        "def scaled_dot_product_attention(q, k, v, mask=None):\n    return torch.softmax(q @ k.T, -1) @ v\n"
        "class MHSA(torch.nn.Module):\n"
        "    def scaled_dot_product_attention(self, q, k, v):\n        return scaled_dot_product_attention(q, k, v)\n"
        "    def forward(self, x):\n        return self.scaled_dot_product_attention(x, x, x)\n"
    )
    assert names(src, ATTENTION) == []


def test_main_block_comments_and_strings_do_not_count():
    src = (
        "import torch.nn.functional as F\n"
        "# F.scaled_dot_product_attention would be cheating\n"
        "DOC = 'F.scaled_dot_product_attention'\n"
        "if __name__ == '__main__':\n    F.scaled_dot_product_attention(1, 2, 3)\n"
    )
    assert names(src, ATTENTION) == []


def test_unparseable_source_has_no_findings():
    assert scan("def (:", ATTENTION) == []


def test_an_import_used_only_in_the_main_block_is_fine():
    src = (
        "from torch.nn.functional import scaled_dot_product_attention as ref\n"
        "if __name__ == '__main__':\n    print(ref)\n"
    )
    assert names(src, ATTENTION) == []


def hidden(source, extra=()):
    return [(f.name, f.line) for f in hiding(source, list(extra))]


HONEST = """
import math
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F
from typing import Optional
from torch.distributions import Normal


class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self._d = d
        setattr(self, "proj", nn.Linear(d, d))
        self.scale = getattr(self, "temperature", None) or 1 / math.sqrt(d)

    def forward(self, x, mask: Optional[torch.Tensor] = None):
        name = type(self).__name__
        return F.softmax(x * self.scale, -1) + torch.finfo(x.dtype).min + np.float32(0) + len(name)


def compile(x):  # the student's own function may take a builtin's name
    return Normal(x, 1).entropy()


y = compile(torch.zeros(1))

if __name__ == "__main__":
    import sys
    print(sys.argv, eval("1"), torch._C, F.__dict__)
"""


def test_honest_code_has_no_hiding_constructs():
    assert hidden(HONEST) == []


@pytest.mark.parametrize("source, expected", [
    ("import torch.nn.functional as F\nn = 'sdpa'\nf = getattr(F, n)\n", ("getattr", 3)),
    ("import torch.nn.functional as F\nf = getattr(F, *['x'])\n", ("getattr", 2)),
    ("import functools, torch\nf = functools.reduce(getattr, ['nn'], torch)\n", ("getattr", 2)),
    ("import torch\nwith torch._C.DisableTorchFunction():\n    pass\n", ("torch._C", 2)),
    ("from torch._C import _nn\nf = _nn\n", ("torch._C", 2)),
    ("import torch\nf = torch.ops.aten\n", ("torch.ops", 2)),
    ("import torch\nf = torch.jit.CompilationUnit('')\n", ("torch.jit", 2)),
    ("import torch\nf = torch.load('x', weights_only=False)\n", ("torch.load", 2)),
    ("import torch\nf = torch.os.environ\n", ("torch.os", 2)),
    ("import importlib\nm = importlib.import_module('torch')\n", ("importlib", 2)),
    ("from importlib import import_module as im\nm = im('torch')\n", ("importlib", 2)),
    ("m = __import__('torch')\n", ("__import__", 1)),
    ("x = __builtins__\n", ("__builtins__", 1)),
    ("import sys\nm = sys.modules\n", ("sys", 2)),
    ("import builtins\nm = builtins.getattr\n", ("builtins", 2)),
    ("f = eval('1')\n", ("eval()", 1)),
    ("exec('x = 1')\n", ("exec()", 1)),
    ("c = compile('1', 'f', 'eval')\n", ("compile()", 1)),
    ("g = globals()\n", ("globals()", 1)),
    ("def f():\n    return locals()\n", ("locals()", 2)),
    ("import torch\nd = vars(torch)\n", ("vars()", 2)),
    ("import torch\nd = torch.__dict__\n", (".__dict__", 2)),
    ("x = (1).__class__.__mro__\n", (".__mro__", 1)),
    ("x = [].__class__.__base__.__subclasses__()\n", (".__base__", 1)),
    ("import torch\nf = torch.exp.__self__\n", (".__self__", 2)),
    ("def f(e):\n    return e.tb_frame.f_back\n", (".tb_frame", 2)),
    ("def f(g):\n    return g.gi_frame\n", (".gi_frame", 2)),
    ("def f(layer):\n    return layer._parameters\n", ("._parameters", 2)),
    ("import torch\nx = getattr(torch, '_C')\n", ("torch._C", 2)),
    ("from torch.nn.functional import *\n", ("from torch.nn.functional import *", 1)),
    ("from . import helpers\n", ("relative import", 1)),
    ("import torch\ntorch.nn.functional.softmax = abs\n", ("torch.nn.functional.softmax", 2)),
    ("import torch\nsetattr(torch, 'exp', abs)\n", ("setattr", 2)),
    ("import operator\nf = operator.attrgetter('x')\n", ("operator.attrgetter", 2)),
    ("import typing\nh = typing.get_type_hints(int)\n", ("typing.get_type_hints", 2)),
    ("import numpy as np\nx = np.load('x.npy', allow_pickle=True)\n", ("numpy.load", 2)),
    ("import pickle\nx = pickle.loads(b'')\n", ("pickle", 2)),
    ("import string\nx = string.Formatter()\n", ("string", 2)),
    ("import torch as t\nG = t\nH = G._C\n", ("torch._C", 3)),
])
def test_hiding_constructs_are_named(source, expected):
    assert expected in hidden(source)


def test_an_exercise_can_accept_more_modules():
    source = "import string\nx = string.ascii_letters\n"
    assert hidden(source) and hidden(source, ["string"]) == []


def test_the_forbidden_scan_follows_assignments_prefixes_and_re_exports():
    assert names("import torch\nG = torch.nn\nH = G.functional\nf = H.scaled_dot_product_attention\n",
                 ATTENTION) == ["torch.nn.functional.scaled_dot_product_attention"]
    assert names("import torch.nn.functional as F\nc = F.scaled_dot_product_attention.__call__\n",
                 ATTENTION) == ["torch.nn.functional.scaled_dot_product_attention"]
    assert names("import torch\nf = torch.nn.modules.activation.F.scaled_dot_product_attention\n", ATTENTION) \
        == ["torch.nn.modules.activation.F.scaled_dot_product_attention"]
    assert names("import torch\nm = torch.nn.modules.activation.MultiheadAttention\n",
                 ["torch.nn.MultiheadAttention"]) == ["torch.nn.modules.activation.MultiheadAttention"]
