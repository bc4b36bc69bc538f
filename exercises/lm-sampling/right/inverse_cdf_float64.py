"""Probabilities in float64, the nucleus by a loop over the sorted tokens, and inverse-CDF sampling
with one uniform per row; the loss summed sequence by sequence."""
import torch
import torch.nn.functional as F


def next_token_loss(logits, tokens, ignore_index=-100):
    total, count = 0.0, 0
    for b in range(logits.shape[0]):
        targets = tokens[b, 1:]
        keep = targets != ignore_index
        if keep.any():
            total = total + F.cross_entropy(logits[b, :-1][keep], targets[keep], reduction="sum")
            count += int(keep.sum())
    return total / count


def _filtered(logits, temperature, top_k, top_p):
    z = logits.double() / temperature
    V = z.shape[-1]
    if top_k is not None and top_k < V:
        kth = z.sort(dim=-1, descending=True).values[:, top_k - 1:top_k]
        z = torch.where(z >= kth, z, torch.tensor(float("-inf"), dtype=z.dtype, device=z.device))
    probs = torch.softmax(z, dim=-1)
    if top_p is not None:
        keep = torch.zeros_like(probs, dtype=torch.bool)
        for b in range(probs.shape[0]):
            mass = 0.0
            for j in torch.argsort(probs[b], descending=True).tolist():
                if mass >= top_p:
                    break
                keep[b, j] = True
                mass += probs[b, j].item()
        probs = probs * keep
    return probs / probs.sum(-1, keepdim=True)


def sample_next_token(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    if temperature == 0:
        return logits.argmax(-1)
    cdf = _filtered(logits, temperature, top_k, top_p).cumsum(-1)
    u = torch.rand(logits.shape[0], 1, generator=generator, device=logits.device, dtype=torch.float64)
    u = u * cdf[:, -1:]
    return (cdf <= u).sum(-1).clamp(max=logits.shape[-1] - 1)


def generate(model, prompt, max_new_tokens, **sampling):
    tokens = [prompt[:, i] for i in range(prompt.shape[1])]
    for _ in range(max_new_tokens):
        seq = torch.stack(tokens, dim=1)
        tokens.append(sample_next_token(model(seq)[:, -1], **sampling))
    return torch.stack(tokens, dim=1)
