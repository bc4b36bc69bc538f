"""Language models: the next-token loss and decoding.

Implement the three functions below. Read statement.md for the maths and what is checked.
`model` is a callable the grader builds: `model(seq)` maps (B, L) int64 tokens to (B, L, V) logits.
"""
import torch
from torch import Tensor


def next_token_loss(logits: Tensor, tokens: Tensor, ignore_index: int = -100) -> Tensor:
    """logits: (B, L, V), position i predicts token i + 1; tokens: (B, L) int64.

    Cross-entropy of logits[:, :-1] against tokens[:, 1:], averaged over every target of the batch
    that is not ignore_index (their sum divided by their count). 0-dim, differentiable in logits.
    """
    raise NotImplementedError("write next_token_loss")


def sample_next_token(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                      top_p: float | None = None, generator: torch.Generator | None = None) -> Tensor:
    """logits: (B, V). One token per row, (B,) int64, from softmax(logits / temperature), restricted
    first to the top_k largest logits, then to the nucleus (keep tokens, most probable first, while
    the mass before them is < top_p), renormalised. temperature == 0: argmax (first index on ties),
    drawing no random numbers. Draw from `generator` when given, else from torch's global generator.
    """
    raise NotImplementedError("write sample_next_token")


def generate(model, prompt: Tensor, max_new_tokens: int, **sampling) -> Tensor:
    """Append max_new_tokens tokens one at a time, each from sample_next_token(model(seq)[:, -1], **sampling).

    prompt: (B, L0) int64. Returns (B, L0 + max_new_tokens), starting with the prompt.
    """
    raise NotImplementedError("write generate")


if __name__ == "__main__":
    logits = torch.tensor([[2.0, 1.0, 0.5, -1.0]]).expand(20000, 4)
    for kwargs in ({}, {"temperature": 0.5}, {"top_k": 2}, {"top_p": 0.7}, {"temperature": 0}):
        tokens = sample_next_token(logits, **kwargs)
        print(kwargs, torch.bincount(tokens, minlength=4) / len(tokens))
    print("exact:", torch.softmax(logits[0], -1))
