"""Keeps the trained generator in a module-level variable instead of the checkpoint:
sample() runs in another process, where train() never ran."""
import torch
from torch import nn

MODEL = None


def train(images, budget):
    global MODEL
    torch.manual_seed(budget.seed)
    MODEL = nn.Sequential(nn.Linear(16, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid())
    opt = torch.optim.Adam(MODEL.parameters(), lr=1e-3)
    data = images.reshape(len(images), -1).float() / 255.0
    step = 0
    while not budget.should_stop(step):
        x = data[torch.randint(len(data), (budget.batch_size,))]
        loss = ((MODEL(torch.randn(len(x), 16)) - x) ** 2).mean()  # a bad model, but that is not the bug
        opt.zero_grad()
        loss.backward()
        opt.step()
        budget.log(step, loss=loss.item())
        step += 1
    return {"trained": torch.tensor(1)}


@torch.no_grad()
def sample(state, n, generator, budget):
    x = MODEL(torch.randn(n, 16, generator=generator))
    return (x * 255).round().to(torch.uint8).reshape(n, 28, 28)
