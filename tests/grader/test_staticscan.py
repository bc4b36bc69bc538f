from grader.staticscan import scan

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
