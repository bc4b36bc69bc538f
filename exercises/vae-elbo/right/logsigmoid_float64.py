import torch
import torch.nn.functional as F


def gaussian_kl(mu, logvar):
    m, lv = mu.double(), logvar.double()
    var = torch.exp(lv)
    return (0.5 * (m * m + var - 1 - lv)).sum(dim=-1).to(mu.dtype)


def negative_elbo(x, recon_logits, mu, logvar):
    out_dtype = recon_logits.dtype
    x64, l64 = x.to(torch.float64), recon_logits.to(torch.float64)
    log_p = F.logsigmoid(l64)          # log sigmoid(l)
    log_1mp = F.logsigmoid(-l64)       # log (1 - sigmoid(l))
    bce = -(x64 * log_p + (1 - x64) * log_1mp)
    dims = tuple(range(1, x.ndim))
    kl = gaussian_kl(mu.to(torch.float64), logvar.to(torch.float64))
    return (bce.sum(dim=dims) + kl).mean().to(out_dtype)
