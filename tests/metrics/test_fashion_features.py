import json
import shutil

import numpy as np
import pytest

from grader.metrics.features import FASHION_CNN_CARD, FASHION_CNN_WEIGHTS, as_unit_batch, fashion_extractor, file_sha256
from reference_models.datasets import load_dataset


def test_committed_weights_match_their_card_and_classify_well():
    card = json.loads(FASHION_CNN_CARD.read_text())
    assert file_sha256(FASHION_CNN_WEIGHTS) == card["sha256"]
    assert card["test_accuracy"] >= 0.88
    extractor = fashion_extractor()
    x, y = load_dataset("fashion-mnist", "test")
    logits = extractor.net(as_unit_batch(x[:1000])).argmax(1).numpy()
    assert (logits == y[:1000]).mean() >= 0.85  # the card's number is real
    f1, f2 = extractor(x[:64]), extractor(x[:64, None])
    assert f1.shape == (64, 128) and f1.dtype == np.float64
    np.testing.assert_array_equal(f1, f2)


def test_tampered_weights_are_refused(tmp_path):
    weights = tmp_path / "w.safetensors"
    shutil.copy(FASHION_CNN_WEIGHTS, weights)
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match"):
        fashion_extractor(weights, FASHION_CNN_CARD)


def test_only_uint8_grayscale_images_are_accepted():
    with pytest.raises(TypeError):
        as_unit_batch(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError):
        as_unit_batch(np.zeros((2, 3, 28, 28), np.uint8))
