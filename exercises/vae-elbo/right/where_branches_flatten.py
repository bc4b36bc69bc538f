import torch


def gaussian_kl(mu, logvar):
    var = logvar.exp()
    return 0.5 * torch.einsum("bd->b", mu.square() + var - logvar - 1)


def negative_elbo(x, recon_logits, mu, logvar):
    l = recon_logits.flatten(start_dim=1)
    t = x.flatten(start_dim=1)
    # log(1 + exp(l)), stable on both sides
    softplus = torch.where(l > 0, l + torch.log1p(torch.exp(-l.abs())), torch.log1p(torch.exp(l.clamp(max=0))))
    nll = softplus - t * l
    per_sample = nll.sum(-1) + gaussian_kl(mu, logvar)
    return per_sample.sum() / per_sample.numel()
