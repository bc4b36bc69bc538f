"""The GAN minimax game: the two losses and one training step.

Implement `discriminator_loss`, `generator_loss` and `train_step` below. Read
statement.md for the maths, the order of the updates and what is checked.
"""
import torch
import torch.nn.functional as F  # noqa: F401  (F.softplus, F.logsigmoid)
from torch import Tensor


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))], D = sigmoid(logits); each expectation is
    the mean over its batch; the two means are added. 0-dim tensor. Must stay
    finite and exact for logits in [-50, 50].

    real_logits: D's logits on a batch of real data; fake_logits: D's logits on a
    batch of generated data (the two batches may differ in size). Compute from the
    logits, not from sigmoid probabilities. Returns a 0-dim tensor of the inputs'
    dtype, differentiable with respect to both inputs.
    """
    raise NotImplementedError("write discriminator_loss")


def generator_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating generator loss -E[log D(G(z))], mean over the batch. 0-dim.
    Must stay finite and exact for logits in [-50, 50].

    fake_logits: D's logits on a batch of generated data. Returns a 0-dim tensor of
    the input's dtype, differentiable with respect to fake_logits.
    """
    raise NotImplementedError("write generator_loss")


def train_step(G, D, opt_G, opt_D, real: Tensor, z: Tensor) -> dict:
    """One round of the minimax game, in this order:
    1. discriminator: zero D's gradients, fake = G(z), loss on D(real) and
       D(fake.detach()), backward, opt_D.step();
    2. generator: zero G's gradients, generator_loss on D(fake) with the
       just-updated D, backward, opt_G.step().

    G, D: torch.nn.Module (D returns one logit per sample); opt_G, opt_D: their
    optimizers; real: a batch of real data; z: a batch of latent codes of the same
    batch size. Returns {"d_loss": float, "g_loss": float}: the two losses as
    computed in steps 1 and 2, as Python floats (loss.item()), not tensors.
    """
    raise NotImplementedError("write train_step")


if __name__ == "__main__":
    # Self-test: the losses at logits 0 (D(x) = 1/2), at extreme logits, and a few steps on a toy problem.
    zero = torch.zeros(4)
    print("discriminator_loss at 0 (expect 2 log 2 = 1.3863):", discriminator_loss(zero, zero).item())
    print("generator_loss at 0 (expect log 2 = 0.6931):", generator_loss(zero).item())
    big = torch.tensor([-50.0, 50.0])
    print("at logits -50 and 50 (expect 50.0 and 50.0, finite):",
          discriminator_loss(big, big).item(), generator_loss(big).item() * 2)

    torch.manual_seed(0)
    G = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.LeakyReLU(0.2), torch.nn.Linear(16, 2))
    D = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.LeakyReLU(0.2), torch.nn.Linear(16, 1))
    opt_G = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    for step in range(501):
        real = torch.randn(64, 2) * 0.5 + torch.tensor([2.0, -1.0])  # a Gaussian blob to imitate
        losses = train_step(G, D, opt_G, opt_D, real, torch.randn(64, 2))
        assert set(losses) == {"d_loss", "g_loss"} and all(type(v) is float for v in losses.values())
        if step % 100 == 0:
            with torch.no_grad():
                mean = G(torch.randn(1000, 2)).mean(0)
            print(f"step {step:3d}  d_loss {losses['d_loss']:.3f}  g_loss {losses['g_loss']:.3f}  "
                  f"mean of G(z) {mean.tolist()} (target [2, -1])")
