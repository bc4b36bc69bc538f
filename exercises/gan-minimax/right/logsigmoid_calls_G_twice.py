import torch
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    # log(1 - sigmoid(x)) = logsigmoid(-x)
    return -(F.logsigmoid(real_logits).mean() + F.logsigmoid(-fake_logits).mean())


def generator_loss(fake_logits):
    return -F.logsigmoid(fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    opt_D.zero_grad()
    with torch.no_grad():
        fake = G(z)  # no graph through G needed for the discriminator
    d_loss = discriminator_loss(D(real), D(fake))
    d_loss.backward()
    opt_D.step()

    opt_G.zero_grad()
    g_loss = generator_loss(D(G(z)))  # G has not changed yet: same fake, now with a graph
    g_loss.backward()
    opt_G.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
