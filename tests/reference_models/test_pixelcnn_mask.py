"""The pixelcnn-mask exercise's reference functions (reference_models/pixelcnn.py): the masks'
patterns, the causality of stacked masked convolutions, and the NLL in bits/dim."""
import math

import pytest
import torch

from reference_models.pixelcnn import MaskedConv2d, causal_conv_mask, pixel_nll_bits_per_dim


def test_mask_patterns():
    a = torch.tensor([[1, 1, 1], [1, 0, 0], [0, 0, 0]], dtype=torch.float32)
    assert torch.equal(causal_conv_mask(3, "A"), a)
    b = a.clone()
    b[1, 1] = 1
    assert torch.equal(causal_conv_mask(3, "B"), b)
    assert torch.equal(causal_conv_mask(1, "A"), torch.zeros(1, 1))
    assert causal_conv_mask(7, "B").sum() == 7 * 3 + 4 and causal_conv_mask(7, "B").dtype == torch.float32


@pytest.mark.parametrize("args", [(4, "A"), (2, "B"), (3, "a"), (3, "C")])
def test_bad_arguments_raise_value_error(args):
    with pytest.raises(ValueError):
        causal_conv_mask(*args)
    with pytest.raises(ValueError):
        MaskedConv2d(args[1], 2, 2, args[0])


def test_a_stack_of_a_then_b_layers_is_strictly_causal_in_raster_order():
    torch.manual_seed(0)
    stack = torch.nn.Sequential(MaskedConv2d("A", 3, 8, 5), torch.nn.Tanh(), MaskedConv2d("B", 8, 8, 3),
                                torch.nn.Tanh(), MaskedConv2d("B", 8, 4, 3))
    with torch.no_grad():  # the masked weights hold large values: they must not leak
        for layer in stack[::2]:
            layer.weight.add_(100 * (1 - layer.mask))
    H, W = 6, 7
    for i, j in [(0, 0), (2, 3), (5, 6), (3, 0)]:
        x = torch.randn(1, 3, H, W, requires_grad=True)
        stack(x)[0, :, i, j].sum().backward()
        seen = x.grad[0].abs().sum(0) > 0  # (H, W)
        raster = torch.arange(H * W).view(H, W)
        assert not seen[raster >= i * W + j].any()
        if j > 0:
            assert seen[i, j - 1]  # the pixel to the left is always seen


def test_forward_leaves_the_weight_alone():
    layer = MaskedConv2d("A", 1, 2, 3)
    before = layer.weight.detach().clone()
    layer(torch.randn(1, 1, 4, 4))
    assert torch.equal(layer.weight, before)


def test_nll_in_bits_matches_log_softmax_and_is_exact_at_large_logits():
    logits = torch.randn(2, 256, 3, 4, 5, dtype=torch.float64) * 3
    x = torch.randint(0, 256, (2, 3, 4, 5))
    log_p = logits.log_softmax(1).gather(1, x[:, None]).squeeze(1)  # (B, C, H, W)
    expected = -log_p.sum((1, 2, 3)).mean() / (3 * 4 * 5 * math.log(2))
    assert torch.isclose(pixel_nll_bits_per_dim(logits, x), expected, rtol=1e-12)
    big = torch.full((1, 256, 1, 1, 1), -100.0)
    big[0, 7] = 100.0
    assert torch.isclose(pixel_nll_bits_per_dim(big, torch.tensor([[[[7]]]])), torch.tensor(0.0), atol=1e-6)
    assert torch.isclose(pixel_nll_bits_per_dim(big, torch.tensor([[[[8]]]])), torch.tensor(200 / math.log(2)))
    assert math.isclose(pixel_nll_bits_per_dim(torch.zeros(1, 256, 1, 2, 2), torch.zeros(1, 1, 2, 2).long()).item(),
                        8.0, rel_tol=1e-6)  # a uniform categorical costs 8 bits


def test_pixelcnn_still_trains_a_step():
    from reference_models.pixelcnn import PixelCNN, PixelCNNConfig

    model = PixelCNN(PixelCNNConfig(image_size=4, width=8, n_layers=1))
    loss = model.loss(torch.randint(0, 256, (2, 1, 4, 4), dtype=torch.uint8))
    loss.backward()
    assert torch.isfinite(loss) and model.conv_in.weight.grad is not None
