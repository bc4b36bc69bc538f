"""The Wasserstein GAN with gradient penalty (Gulrajani et al. 2017).

Implement `gradient_penalty`, `critic_loss` and `generator_loss_wgan` below.
Read statement.md for the maths and what is checked. Any torch function may be used.
"""
import torch  # noqa: F401  (torch.autograd.grad)
from torch import Tensor


def gradient_penalty(critic, real: Tensor, fake: Tensor, alpha: Tensor) -> Tensor:
    """The WGAN-GP penalty at random interpolates of real and fake samples.

    alpha: (B,) in [0, 1], broadcast per sample; x_hat = alpha * real + (1 - alpha) * fake;
    g = d critic(x_hat).sum() / d x_hat, with create_graph=True so that the penalty
    is differentiable with respect to the critic's parameters;
    penalty = mean over the batch of (||g_i||_2 - 1) ** 2, each norm over all of a
    sample's non-batch dimensions. 0-dim. critic returns (B,) or (B, 1).
    real and fake do not require grad (fake is detached): neither is modified,
    nor is its requires_grad flag changed (mark x_hat instead). Use
    torch.autograd.grad or torch.func, not .backward(), and leave the critic's
    .grad untouched. alpha has real's dtype.
    """
    raise NotImplementedError("write gradient_penalty")


def critic_loss(real_scores: Tensor, fake_scores: Tensor, penalty: Tensor, lambda_gp: float = 10.0) -> Tensor:
    """mean(fake_scores) - mean(real_scores) + lambda_gp * penalty. 0-dim.

    The scores may be (B,) or (B, 1), and the real and fake batch sizes may differ.
    """
    raise NotImplementedError("write critic_loss")


def generator_loss_wgan(fake_scores: Tensor) -> Tensor:
    """-mean(fake_scores). 0-dim."""
    raise NotImplementedError("write generator_loss_wgan")


if __name__ == "__main__":
    # A small self-test: a linear critic f(x) = w . x has gradient w everywhere.
    critic = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.0, 3.0, 0.0, 4.0]]))  # ||w|| = 5
    real, fake = torch.randn(8, 4), torch.randn(8, 4)
    penalty = gradient_penalty(critic, real, fake, torch.rand(8))
    print("penalty", penalty.item(), "(expect (5 - 1)^2 = 16)")
    print("differentiable in the critic's weights:", penalty.requires_grad)
    print("critic's .grad untouched:", critic.weight.grad is None)
