import torch
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    # generator first
    opt_G.zero_grad()
    g_loss = generator_loss(D(G(z)))
    g_loss.backward()
    opt_G.step()

    opt_D.zero_grad()
    fake = G(z).detach()
    d_loss = discriminator_loss(D(real), D(fake))
    d_loss.backward()
    opt_D.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
