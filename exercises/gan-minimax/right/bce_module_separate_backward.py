import torch
from torch import nn

bce = nn.BCEWithLogitsLoss()


def discriminator_loss(real_logits, fake_logits):
    loss_real = bce(real_logits, torch.ones_like(real_logits))
    loss_fake = bce(fake_logits, torch.zeros_like(fake_logits))
    return loss_real + loss_fake


def generator_loss(fake_logits):
    return bce(fake_logits, torch.ones_like(fake_logits))


def train_step(G, D, opt_G, opt_D, real, z):
    opt_D.zero_grad()
    fake = G(z)
    # two backward passes accumulate into the same .grad: same gradient as the summed loss
    real_logits = D(real)
    loss_real = bce(real_logits, torch.ones_like(real_logits))
    loss_real.backward()
    fake_logits = D(fake.detach())
    loss_fake = bce(fake_logits, torch.zeros_like(fake_logits))
    loss_fake.backward()
    opt_D.step()
    d_loss = loss_real.item() + loss_fake.item()

    opt_G.zero_grad()
    g_loss = generator_loss(D(fake))
    g_loss.backward()
    opt_G.step()
    return {"d_loss": d_loss, "g_loss": g_loss.item()}
