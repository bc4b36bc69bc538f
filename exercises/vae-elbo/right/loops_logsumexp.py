import torch


def gaussian_kl(mu, logvar):
    rows = []
    for i in range(mu.shape[0]):
        total = torch.zeros((), dtype=mu.dtype, device=mu.device)
        for j in range(mu.shape[1]):
            m, lv = mu[i, j], logvar[i, j]
            total = total + 0.5 * (m * m + torch.exp(lv) - 1 - lv)
        rows.append(total)
    return torch.stack(rows)


def _bce(logits, target):
    # log(1 + e^l) computed as max(l, 0) + log(1 + e^{-|l|}): the log-sum-exp trick
    return torch.clamp(logits, min=0) - logits * target + torch.log1p(torch.exp(-logits.abs()))


def negative_elbo(x, recon_logits, mu, logvar):
    kl = gaussian_kl(mu, logvar)
    total = 0
    batch = x.shape[0]
    for b in range(batch):
        total = total + _bce(recon_logits[b], x[b]).sum() + kl[b]
    return total / batch
