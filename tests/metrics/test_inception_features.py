"""The optional Inception path, with random weights: only shapes, strict loading by
pytorch-fid's module names, and determinism are testable without the real file."""
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from grader.metrics.inception import FIDInceptionV3, inception_extractor


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    torch.manual_seed(0)
    state = FIDInceptionV3().state_dict()
    path = tmp_path_factory.mktemp("inception") / "random.pth"
    torch.save(state, path)
    return path, state


def test_operator_weights_give_deterministic_2048_d_features(random_weights):
    path, state = random_weights
    assert "Mixed_7c.branch3x3dbl_3b.conv.weight" in state and state["fc.weight"].shape == (1008, 2048)
    extractor = inception_extractor(path)
    assert extractor.label == "FID (Inception-v3 features)" and len(extractor.sha256) == 64
    images = np.random.default_rng(0).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    a, b = extractor(images), extractor(images)
    assert a.shape == (2, 2048) and a.dtype == np.float64 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)


def test_safetensors_weights_load_too_and_missing_keys_are_refused(tmp_path, random_weights):
    _, state = random_weights
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "w.safetensors"))
    assert inception_extractor(tmp_path / "w.safetensors").net.Mixed_5b.branch_pool.conv.out_channels == 32
    del state["fc.bias"]
    torch.save(state, tmp_path / "partial.pth")
    with pytest.raises(RuntimeError, match="fc.bias"):
        inception_extractor(tmp_path / "partial.pth")


def test_missing_weights_file_says_what_to_supply(tmp_path):
    with pytest.raises(FileNotFoundError, match="pt_inception-2015-12-05"):
        inception_extractor(tmp_path / "nope.pth")


def test_parameter_count_matches_torchvision_inception_v3_without_aux_head():
    """torchvision's inception_v3 has 27,161,264 parameters; less its auxiliary head
    (128*768 + 2*128 + 768*128*25 + 2*768 + 768*1000 + 1000 = 3,326,696) and with
    pytorch-fid's 1008-way fc (+ 8*2048 + 8) that is 23,850,960."""
    assert sum(p.numel() for p in FIDInceptionV3().parameters()) == 27_161_264 - 3_326_696 + 8 * 2048 + 8
