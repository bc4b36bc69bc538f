"""Generate Fashion-MNIST: any generative model you like, within the budget.

Define `train(images, budget)` and `sample(state, n, generator, budget)`; statement.md
gives the exact contract, the budgets and how the leaderboard scores your samples.
This starter is a complete, working baseline: a small fully-connected VAE whose samples
are the decoder's means. It gets full marks and a poor FID. The TODOs say where to start.
"""
import torch
import torch.nn.functional as F
from torch import nn

LATENT, HIDDEN = 16, 256  # TODO: tune, or replace the model altogether (a GAN? a diffusion model?)


def make_encoder() -> nn.Module:
    # TODO: convolutions see shapes that a fully-connected layer has to learn pixel by pixel
    return nn.Sequential(nn.Flatten(), nn.Linear(784, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 2 * LATENT))


def make_decoder() -> nn.Module:
    return nn.Sequential(nn.Linear(LATENT, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 784),
                         nn.Unflatten(1, (1, 28, 28)))  # logits (B, 1, 28, 28)


def train(images: torch.Tensor, budget) -> dict[str, torch.Tensor]:
    """images: uint8 (60000, 28, 28) on the CPU, the training split. Returns what sample() needs."""
    torch.manual_seed(budget.seed)
    encoder, decoder = make_encoder().to(budget.device), make_decoder().to(budget.device)
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-3)  # TODO: a schedule?
    step = 0
    while not budget.should_stop(step):  # stop when the budget says so, or the sandbox is stopped for you
        idx = torch.randint(len(images), (budget.batch_size,))
        x = images[idx].unsqueeze(1).to(budget.device).float() / 255.0  # (B, 1, 28, 28) in [0, 1]
        mu, logvar = encoder(x).chunk(2, dim=1)  # 2 x (B, LATENT)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        recon = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="none").flatten(1).sum(1)
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
        loss = (recon + kl).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        budget.log(step, loss=loss.item())  # the loss curve on your result page
        step += 1
    return decoder.state_dict()  # only what sampling needs: the checkpoint is capped


@torch.no_grad()
def sample(state: dict[str, torch.Tensor], n: int, generator: torch.Generator, budget) -> torch.Tensor:
    """n new images as uint8 (n, 28, 28); draw all randomness from `generator`."""
    decoder = make_decoder()
    decoder.load_state_dict(state)
    decoder.to(budget.device).eval()
    z = torch.randn(n, LATENT, generator=generator).to(budget.device)
    probs = torch.sigmoid(decoder(z))  # (n, 1, 28, 28); TODO: decoder means are blurry, and FID notices
    return (probs * 255).round().to(torch.uint8)[:, 0].cpu()


if __name__ == "__main__":
    # A local run on random images with a stand-in for the grader's budget object.
    import time

    class Budget:
        steps, batch_size, seed, device, seconds, options = 50, 64, 0, "cpu", 60.0, {}
        rows: list = []
        start = time.monotonic()

        def time_left(self):
            return self.seconds - (time.monotonic() - self.start)

        def log(self, step, **values):
            self.rows.append({"step": step, **values})

        def should_stop(self, step):
            return step >= self.steps or self.time_left() < 0.1 * self.seconds

    budget = Budget()
    state = train(torch.randint(0, 256, (1000, 28, 28), dtype=torch.uint8), budget)
    print("loss", budget.rows[0]["loss"], "->", budget.rows[-1]["loss"])
    x = sample(state, 8, torch.Generator().manual_seed(0), budget)
    print("samples", tuple(x.shape), x.dtype, "(expect (8, 28, 28) torch.uint8)")
