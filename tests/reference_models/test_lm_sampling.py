"""The lm-sampling reference: the shifted loss by hand, the filtered distribution on hand-made
probabilities (the crossing token, top-k then top-p), greedy decoding, and generate on a tiny model."""
from __future__ import annotations

import math

import torch

from reference_models import lm_sampling as ref


def test_loss_is_the_mean_over_counted_targets():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 5, generator=g, dtype=torch.float64)
    tokens = torch.tensor([[1, 2, -100, 4], [-100, 0, 3, -100]])
    terms = [-torch.log_softmax(logits[b, i], -1)[tokens[b, i + 1]]
             for b in range(2) for i in range(3) if tokens[b, i + 1] != -100]
    torch.testing.assert_close(ref.next_token_loss(logits, tokens), torch.stack(terms).mean())
    custom = torch.where(tokens == -100, 2, tokens)
    assert math.isclose(ref.next_token_loss(logits, custom, ignore_index=2).item(),
                        ref.next_token_loss(logits, torch.where(custom == 2, -100, custom)).item())


def test_nucleus_keeps_the_crossing_token_and_follows_top_k():
    probs = torch.tensor([[0.05, 0.4, 0.25, 0.15, 0.1, 0.05]], dtype=torch.float64)
    logits = probs.log()
    nucleus = ref.filtered_probs(logits, top_p=0.5)  # 0.4 (mass before 0), 0.25 (mass before 0.4 < 0.5)
    torch.testing.assert_close(nucleus, torch.tensor([[0, 0.4, 0.25, 0, 0, 0]], dtype=torch.float64) / 0.65)
    assert torch.equal(ref.filtered_probs(logits, top_p=0.01) > 0, probs == 0.4)  # the most probable always
    both = ref.filtered_probs(logits, top_k=3, top_p=0.8)  # top 3: 0.4, 0.25, 0.15 -> renormalised 0.5, .3125
    assert torch.equal(both > 0, torch.tensor([[False, True, True, False, False, False]]))
    assert torch.equal(ref.filtered_probs(logits, top_k=6), ref.filtered_probs(logits, top_k=60))
    torch.testing.assert_close(ref.filtered_probs(logits, temperature=0.5), torch.softmax(logits / 0.5, -1))


def test_sampling_frequencies_and_greedy():
    logits = torch.tensor([[1.0, 3.0, 3.0, 0.0]])
    assert ref.sample_next_token(logits, temperature=0).tolist() == [1]
    g = torch.Generator().manual_seed(0)
    many = torch.tensor([[0.0, 1.0, 2.0]]).expand(40_000, 3)
    draws = ref.sample_next_token(many, top_k=2, generator=g)
    freq = torch.bincount(draws, minlength=3) / len(draws)
    expected = torch.tensor([0, 1 / (1 + math.e), math.e / (1 + math.e)])
    assert (freq - expected).abs().max() < 0.01
    again = ref.sample_next_token(many, top_k=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(draws, again)


def test_generate_appends_greedy_tokens_of_the_whole_sequence():
    def model(seq):  # the next token is (sum of the sequence) mod 5
        return torch.nn.functional.one_hot(seq.cumsum(1) % 5, 5).double() * 10

    out = ref.generate(model, torch.tensor([[1, 2]]), 3, temperature=0.0)
    assert out.tolist() == [[1, 2, 3, 1, 2]]
    assert torch.equal(ref.generate(model, torch.tensor([[1, 2]]), 0), torch.tensor([[1, 2]]))
