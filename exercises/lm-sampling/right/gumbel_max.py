"""The Gumbel-max trick on filtered logits (-inf outside the kept set); the loss with nll_loss."""
import torch
import torch.nn.functional as F


def next_token_loss(logits, tokens, ignore_index=-100):
    B, L, V = logits.shape
    log_probs = F.log_softmax(logits[:, : L - 1].reshape(-1, V), dim=-1)
    return F.nll_loss(log_probs, tokens[:, 1:].reshape(-1), ignore_index=ignore_index, reduction="mean")


def sample_next_token(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    if temperature == 0:
        return torch.argmax(logits, dim=-1)
    scaled = logits / temperature
    neg_inf = torch.finfo(scaled.dtype).min
    if top_k is not None:
        values = scaled.topk(min(top_k, scaled.shape[-1]), dim=-1).values
        scaled = torch.where(scaled >= values[:, -1:], scaled, neg_inf)
    if top_p is not None:
        probs = scaled.softmax(-1)
        sorted_probs, idx = probs.sort(-1, descending=True)
        exclusive = F.pad(sorted_probs.cumsum(-1)[:, :-1], (1, 0))
        keep = torch.empty_like(exclusive, dtype=torch.bool).scatter_(-1, idx, exclusive < top_p)
        scaled = torch.where(keep, scaled, neg_inf)
    u = torch.rand(scaled.shape, generator=generator, device=scaled.device, dtype=scaled.dtype)
    gumbel = -torch.log(-torch.log(u.clamp(min=torch.finfo(u.dtype).tiny)))
    return torch.argmax(scaled + gumbel, dim=-1)


def generate(model, prompt, max_new_tokens, **sampling):
    seq = prompt
    while seq.shape[1] < prompt.shape[1] + max_new_tokens:
        seq = torch.cat((seq, sample_next_token(model(seq)[:, -1], **sampling).view(-1, 1)), 1)
    return seq
