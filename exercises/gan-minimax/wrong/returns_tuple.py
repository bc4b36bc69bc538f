import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    # -log D(x) = softplus(-logit), -log(1 - D(G(z))) = softplus(logit)
    real_term = F.softplus(-real_logits).mean()
    fake_term = F.softplus(fake_logits).mean()
    return real_term + fake_term


def generator_loss(fake_logits):
    # non-saturating: -log D(G(z))
    return F.softplus(-fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    # 1. discriminator
    opt_D.zero_grad()
    fake = G(z)
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()

    # 2. generator, against the updated discriminator
    opt_G.zero_grad()
    g_loss = generator_loss(D(fake))
    g_loss.backward()
    opt_G.step()

    return d_loss.item(), g_loss.item()
