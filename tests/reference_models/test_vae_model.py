import torch
from helpers_rm import losses_fall

from reference_models.vae import ConvVAE, VAEConfig


def test_vae_negative_elbo_falls_and_samples_have_image_shape():
    torch.manual_seed(0)
    model = ConvVAE(VAEConfig(image_size=8, latent_dim=4, width=8, lr=1e-2))
    first, last = losses_fall(model, steps=40)
    assert last < 0.8 * first
    x = model.sample(5, generator=torch.Generator().manual_seed(1))
    assert x.shape == (5, 1, 8, 8) and x.dtype == torch.uint8


def test_vae_forward_shapes_on_fashion_sized_images():
    model = ConvVAE(VAEConfig(latent_dim=3, width=4))
    logits, mu, logvar = model(torch.rand(2, 1, 28, 28))
    assert logits.shape == (2, 1, 28, 28) and mu.shape == logvar.shape == (2, 3)
