"""The DDPM reverse process, DDIM steps and classifier-free guidance.

Implement the five functions below. Read statement.md for the maths and what is checked.
`model` is a callable the grader builds: `model(xt, t)` returns the predicted noise, xt's shape.
"""
import torch
from torch import Tensor


def q_posterior_mean_variance(x0: Tensor, xt: Tensor, t: Tensor, betas: Tensor,
                              alphas_cumprod: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and variance of q(x_{t-1} | x_t, x_0) (Ho et al. 2020, eq. 7), with alpha_bar_{-1} = 1.

    t: (B,) int64. Both results have xt's full shape and dtype (the variance expanded).
    """
    raise NotImplementedError("write q_posterior_mean_variance")


def predict_x0_from_eps(xt: Tensor, t: Tensor, eps: Tensor, alphas_cumprod: Tensor) -> Tensor:
    """x0 = (xt - sqrt(1 - alpha_bar_t) * eps) / sqrt(alpha_bar_t), not clipped."""
    raise NotImplementedError("write predict_x0_from_eps")


def p_sample(model, xt: Tensor, t: Tensor, betas: Tensor, alphas_cumprod: Tensor, noise: Tensor) -> Tensor:
    """One ancestral step x_{t-1} = mean + sqrt(variance) * noise; rows with t == 0 get no noise."""
    raise NotImplementedError("write p_sample")


def ddim_step(model, xt: Tensor, t: Tensor, t_prev: Tensor, alphas_cumprod: Tensor, eta: float = 0.0,
              noise: Tensor | None = None) -> Tensor:
    """One DDIM step from t to t_prev (Song et al. 2021, eq. 12); alpha_bar_prev = 1 where t_prev == -1.

    noise may be None only when eta == 0, and is ignored then.
    """
    raise NotImplementedError("write ddim_step")


def classifier_free_guidance(eps_cond: Tensor, eps_uncond: Tensor, guidance_scale: float) -> Tensor:
    """eps_uncond + guidance_scale * (eps_cond - eps_uncond): scale 1 gives eps_cond, 0 gives eps_uncond."""
    raise NotImplementedError("write classifier_free_guidance")


if __name__ == "__main__":
    T = 1000
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0)
    x0, xt, t = torch.randn(4, 3), torch.randn(4, 3), torch.tensor([0, 1, 500, 999])
    mean, var = q_posterior_mean_variance(x0, xt, t, betas, abar)
    print("variance at t = 0 (expect 0):", var[0, 0].item())
    zero_model = lambda x, t: torch.zeros_like(x)  # noqa: E731
    print("DDIM eta = 0 to t_prev = -1 returns x0 = xt / sqrt(abar):",
          ddim_step(zero_model, xt, t, torch.full_like(t, -1), abar)[0], xt[0] / abar[0].sqrt())
