"""A small DCGAN (Radford et al. 2016): the generator upsamples z ~ N(0, I) with two
stride-2 transposed convolutions, the discriminator mirrors it; non-saturating losses,
Adam(2e-4, betas=(0.5, 0.999)). Only the generator's weights go into the checkpoint."""
import torch
import torch.nn.functional as F
from torch import nn

Z_DIM, WIDTH = 64, 32


def make_generator() -> nn.Module:
    w = WIDTH
    return nn.Sequential(
        nn.Linear(Z_DIM, 2 * w * 7 * 7, bias=False), nn.Unflatten(1, (2 * w, 7, 7)),  # (B, 2w, 7, 7)
        nn.BatchNorm2d(2 * w), nn.ReLU(),
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),  # (B, w, 14, 14)
        nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Tanh(),  # (B, 1, 28, 28) in [-1, 1]
    )


def make_discriminator() -> nn.Module:
    w = WIDTH
    return nn.Sequential(
        nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2),  # (B, w, 14, 14)
        nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),  # (B, 2w, 7, 7)
        nn.Flatten(), nn.Linear(2 * w * 7 * 7, 1),  # (B, 1) logits
    )


def train(images, budget):
    torch.manual_seed(budget.seed)
    batches = torch.Generator().manual_seed(budget.seed)
    G, D = make_generator().to(budget.device), make_discriminator().to(budget.device)
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    step = 0
    while not budget.should_stop(step):
        idx = torch.randint(len(images), (budget.batch_size,), generator=batches)
        real = images[idx].unsqueeze(1).to(budget.device).float() / 127.5 - 1.0  # (B, 1, 28, 28)
        fake = G(torch.randn(budget.batch_size, Z_DIM, device=budget.device))

        opt_D.zero_grad()
        d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
        d_loss.backward()
        opt_D.step()

        opt_G.zero_grad()
        g_loss = F.softplus(-D(fake)).mean()
        g_loss.backward()
        opt_G.step()
        budget.log(step, d_loss=d_loss.item(), g_loss=g_loss.item())
        step += 1
    return G.state_dict()


@torch.no_grad()
def sample(state, n, generator, budget):
    G = make_generator()
    G.load_state_dict(state)
    G.to(budget.device).eval()
    z = torch.randn(64, Z_DIM, generator=generator).to(budget.device)  # a grid of 64, whatever n is
    x = torch.cat([G(chunk) for chunk in z.split(500)])  # (n, 1, 28, 28) in [-1, 1]
    return ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu()
