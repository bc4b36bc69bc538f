import torch


def _std(logvar):
    return logvar.mul(0.5).exp()


def reparameterize(mu, logvar):
    eps = torch.empty_like(mu).normal_()
    out = torch.addcmul(mu, _std(logvar), eps)
    return out
