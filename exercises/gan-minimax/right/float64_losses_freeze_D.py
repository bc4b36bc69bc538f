import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    r, f = real_logits.double(), fake_logits.double()
    loss = F.softplus(-r).sum() / r.numel() + F.softplus(f).sum() / f.numel()
    return loss.to(real_logits.dtype)


def generator_loss(fake_logits):
    return F.softplus(-fake_logits.double()).mean().to(fake_logits.dtype)


def train_step(G, D, opt_G, opt_D, real, z):
    opt_D.zero_grad()
    fake = G(z)
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()

    for p in D.parameters():  # D is not trained in this step
        p.requires_grad_(False)
    opt_G.zero_grad()
    g_loss = generator_loss(D(fake))
    g_loss.backward()
    opt_G.step()
    for p in D.parameters():
        p.requires_grad_(True)
    return dict(d_loss=d_loss.item(), g_loss=g_loss.item())
