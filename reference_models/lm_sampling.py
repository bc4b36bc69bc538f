"""Autoregressive language models: the next-token loss and decoding (the lm-sampling exercise).

The loss is the cross-entropy of position i's logits against token i + 1, averaged over the target
positions that are not `ignore_index`. Decoding draws from softmax(logits / temperature), restricted
to the top_k largest logits and then to the nucleus of Holtzman et al. (2020): tokens in descending
order of probability, kept while the mass before them is < top_p (the token that crosses top_p is
kept). `filtered_probs` is that exact distribution, against which the judge compares frequencies.
This file defines the exercise's functions and is never shipped into a grading sandbox.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def next_token_loss(logits: Tensor, tokens: Tensor, ignore_index: int = -100) -> Tensor:
    V = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1), ignore_index=ignore_index,
                           reduction="mean")


def filtered_probs(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                   top_p: float | None = None) -> Tensor:
    """(B, V) the distribution sample_next_token draws from (one-hot argmax for temperature 0)."""
    if temperature == 0:
        return F.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        probs = torch.where(logits >= kth, probs, 0.0)
        probs = probs / probs.sum(-1, keepdim=True)
    if top_p is not None:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(-1) - sorted_probs
        keep_sorted = before < top_p
        keep_sorted[:, 0] = True
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        probs = torch.where(keep, probs, 0.0)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def sample_next_token(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                      top_p: float | None = None, generator: torch.Generator | None = None) -> Tensor:
    if temperature == 0:
        return logits.argmax(-1)
    probs = filtered_probs(logits, temperature, top_k, top_p)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def generate(model, prompt: Tensor, max_new_tokens: int, **sampling) -> Tensor:
    seq = prompt
    for _ in range(max_new_tokens):
        token = sample_next_token(model(seq)[:, -1], **sampling)
        seq = torch.cat([seq, token[:, None]], dim=1)
    return seq
