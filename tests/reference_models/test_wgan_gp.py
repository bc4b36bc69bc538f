"""The wgan-gp exercise's reference functions (reference_models/wgan_gp.py) on critics whose
input gradients are known in closed form."""
import torch
from torch import nn

from reference_models.wgan_gp import critic_loss, generator_loss_wgan, gradient_penalty, interpolate


def test_a_linear_critic_has_the_same_gradient_everywhere():
    """f(x) = w . x has gradient w at every x_hat, so the penalty is (||w|| - 1)^2 whatever alpha is."""
    critic = nn.Linear(6, 1, bias=False).double()
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0, 0.0, 0.0]]))  # ||w|| = 5
    real, fake = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    penalty = gradient_penalty(critic, real, fake, torch.rand(4, dtype=torch.float64))
    assert torch.isclose(penalty, torch.tensor(16.0, dtype=torch.float64))


def test_norms_are_per_sample_over_all_non_batch_dimensions():
    """f(x) = 0.5 * sum(x^2) has gradient x_hat itself: the penalty is mean((||x_hat_i|| - 1)^2)."""
    real, fake = torch.randn(5, 2, 3, 3, dtype=torch.float64), torch.randn(5, 2, 3, 3, dtype=torch.float64)
    alpha = torch.tensor([0.0, 1.0, 0.25, 0.5, 0.9], dtype=torch.float64)
    x_hat = interpolate(real, fake, alpha)
    assert torch.equal(x_hat[0], fake[0]) and torch.equal(x_hat[1], real[1])
    expected = (x_hat.flatten(1).norm(dim=1) - 1).pow(2).mean()
    got = gradient_penalty(lambda x: 0.5 * x.pow(2).flatten(1).sum(1), real, fake, alpha)
    assert torch.isclose(got, expected, rtol=1e-12)


def test_the_penalty_is_differentiable_in_the_critics_parameters_and_leaves_inputs_alone():
    critic = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake = torch.randn(4, 3), torch.randn(4, 3)
    penalty = gradient_penalty(critic, real, fake, torch.rand(4))
    # every parameter but the output bias (which does not change d critic / d x) gets a gradient
    grads = torch.autograd.grad(penalty, list(critic.parameters())[:-1])
    assert all(g.abs().sum() > 0 for g in grads)
    assert not real.requires_grad and not fake.requires_grad
    assert all(p.grad is None for p in critic.parameters())


def test_losses():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([[0.5], [1.5], [-2.0]])
    assert torch.isclose(critic_loss(real, fake, torch.tensor(0.5)), torch.tensor(0.0 - 2.0 + 5.0))
    assert torch.isclose(critic_loss(real, fake, torch.tensor(0.5), lambda_gp=2.0), torch.tensor(-1.0))
    assert torch.isclose(generator_loss_wgan(fake), torch.tensor(0.0))
