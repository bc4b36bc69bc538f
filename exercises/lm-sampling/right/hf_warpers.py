"""Hugging Face style warpers: top-k by masking with -inf, top-p on the ascending cumulative sum
(remove tokens whose cumulative probability from below is <= 1 - top_p); the loss by hand."""
import torch


def next_token_loss(logits, tokens, ignore_index=-100):
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    targets = tokens[:, 1:]
    valid = targets != ignore_index
    picked = logp.gather(-1, torch.where(valid, targets, 0).unsqueeze(-1)).squeeze(-1)
    return -(picked * valid).sum() / valid.sum()


def _top_k(scores, k):
    k = min(k, scores.size(-1))
    threshold = torch.topk(scores, k)[0][..., -1, None]
    return scores.masked_fill(scores < threshold, -float("inf"))


def _top_p(scores, top_p):
    sorted_logits, sorted_indices = torch.sort(scores, descending=False)
    cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    sorted_indices_to_remove = cumulative_probs <= (1 - top_p)
    sorted_indices_to_remove[..., -1:] = False  # keep the most probable token
    indices_to_remove = sorted_indices_to_remove.scatter(1, sorted_indices, sorted_indices_to_remove)
    return scores.masked_fill(indices_to_remove, -float("inf"))


def sample_next_token(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    if temperature == 0:
        return torch.argmax(logits, dim=-1)
    scores = logits / temperature
    if top_k is not None:
        scores = _top_k(scores, top_k)
    if top_p is not None:
        scores = _top_p(scores, top_p)
    probs = torch.softmax(scores, dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)[:, 0]


def generate(model, prompt, max_new_tokens, **sampling):
    out = prompt.clone()
    for _ in range(max_new_tokens):
        out = torch.cat([out, sample_next_token(model(out)[:, -1, :], **sampling)[:, None]], dim=-1)
    return out
