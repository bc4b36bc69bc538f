import torch


def discriminator_loss(real_logits, fake_logits):
    # -log sigmoid(x) = log(1 + exp(-x)) = logaddexp(0, -x)
    zero = torch.zeros((), dtype=real_logits.dtype, device=real_logits.device)
    return torch.logaddexp(zero, -real_logits).mean() + torch.logaddexp(zero, fake_logits).mean()


def generator_loss(fake_logits):
    zero = torch.zeros((), dtype=fake_logits.dtype, device=fake_logits.device)
    return torch.logaddexp(zero, -fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    opt_D.zero_grad()
    fake = G(z)
    d_loss = discriminator_loss(D(real), D(fake))  # no detach: G gets gradients too ...
    d_loss.backward(retain_graph=True)
    opt_D.step()

    opt_G.zero_grad()  # ... which are thrown away here
    g_loss = generator_loss(D(fake))
    g_loss.backward()
    opt_G.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
