"""The average training image, n times: valid uint8 images, but all the same."""
import torch


def train(images, budget):
    budget.log(0, loss=0.0)
    return {"mean": images.float().mean(0)}


def sample(state, n, generator, budget):
    return state["mean"].round().to(torch.uint8).expand(n, 28, 28).clone()
