import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    # zero everything up front: with fake detached, step 1 never touches G's gradients
    opt_D.zero_grad(set_to_none=False)
    opt_G.zero_grad(set_to_none=False)
    fake = G(z)
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()

    g_loss = generator_loss(D(fake))
    g_loss.backward()
    opt_G.step()
    out = {}
    out["d_loss"] = d_loss.item()
    out["g_loss"] = g_loss.item()
    return out
