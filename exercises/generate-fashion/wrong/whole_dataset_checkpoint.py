"""Returns the whole training set, as float32, in the checkpoint: 188 MB, over the cap."""
import torch


def train(images, budget):
    budget.log(0, loss=0.0)
    return {"images": images.float() / 255.0}


def sample(state, n, generator, budget):
    x = state["images"][torch.randint(len(state["images"]), (n,), generator=generator)]
    return (x * 255).round().to(torch.uint8)
