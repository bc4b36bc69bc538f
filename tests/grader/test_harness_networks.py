"""Proposed for tests/grader/: the public networks the harness builds for §8-10 (grader/harness/objects.py)."""
from __future__ import annotations

import torch

from grader.harness.objects import build, network


def test_conditioned_network_keeps_x_shape_and_depends_on_the_index():
    net = network({"type": "conditioned", "sizes": [12, 8, 12], "n_index": 5, "dtype": "float64"})
    x = torch.randn(3, 3, 2, 2, dtype=torch.float64)
    a, b = net(x, torch.tensor([0, 1, 4])), net(x, torch.tensor([2, 1, 4]))
    assert a.shape == x.shape and a.dtype == torch.float64
    assert not torch.equal(a[0], b[0]) and torch.equal(a[1:], b[1:])


def test_causal_lm_is_causal():
    lm = network({"type": "causal_lm", "vocab": 6, "hidden": [8]})
    seq = torch.randint(0, 6, (2, 5))
    changed = seq.clone()
    changed[:, 3] = (seq[:, 3] + 1) % 6
    out, out2 = lm(seq), lm(changed)
    assert out.shape == (2, 5, 6)
    assert torch.equal(out[:, :3], out2[:, :3]) and not torch.equal(out[:, 3:], out2[:, 3:])


def test_state_loads_into_the_requested_dtype_and_generators_are_seeded():
    spec = {"type": "conditioned", "sizes": [2, 2], "n_index": 1, "dtype": "float64"}
    state = {k: torch.ones_like(v, dtype=torch.float32) for k, v in network(spec).state_dict().items()}
    net = build({**spec, "state": {k: k for k in state}}, state, {}, None)
    assert net.net[0].weight.dtype == torch.float64
    g1 = build({"type": "generator", "seed": 3}, {}, {}, None)
    g2 = build({"type": "generator", "seed": 3}, {}, {}, None)
    assert torch.equal(torch.rand(4, generator=g1), torch.rand(4, generator=g2))
