import math

import torch
from helpers_rm import losses_fall

from reference_models.pixelcnn import PixelCNN, PixelCNNConfig


def test_pixelcnn_bits_per_dim_fall_from_uniform_and_sampling_fills_the_image():
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig(image_size=8, width=16, n_layers=2, lr=3e-3))
    first, last = losses_fall(model, steps=40)
    assert abs(first - 8.0) < 0.5  # about uniform over 256 values at the start
    assert math.isfinite(last) and last < 0.8 * first
    x = model.sample(3, generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 1, 8, 8) and x.dtype == torch.uint8


def test_masks_make_each_logit_depend_only_on_earlier_pixels():
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig(image_size=6, width=8, n_layers=3)).double()
    x = torch.randint(0, 256, (1, 1, 6, 6), dtype=torch.uint8)
    i, j = 3, 2
    base = model(x)[0, :, i, j]
    for r in range(6):
        for c in range(6):
            y = x.clone()
            y[0, 0, r, c] = (int(y[0, 0, r, c]) + 100) % 256
            changed = not torch.allclose(model(y)[0, :, i, j], base)
            if (r, c) >= (i, j):
                assert not changed, (r, c)


def test_logits_of_a_row_need_only_the_rows_above():
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig(image_size=6, width=8, n_layers=3))
    x = torch.randint(0, 256, (2, 1, 6, 6), dtype=torch.uint8)
    assert torch.allclose(model(x[:, :, :4])[:, :, 3], model(x)[:, :, 3], atol=1e-6)
