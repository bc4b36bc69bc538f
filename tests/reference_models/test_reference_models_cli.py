import json

import pytest
from PIL import Image
from safetensors import safe_open

from reference_models.__main__ import main
from reference_models.artifacts import load_model


def test_train_writes_checkpoint_grid_and_loss_curve_then_sample_reads_it(tmp_path):
    out = tmp_path / "run"
    main(["train", "ddpm", "--dataset", "digits", "--steps", "3", "--batch-size", "8", "--n-samples", "4",
          "--set", "timesteps=10", "width=8", "channel_mult=(1,2)", "--out", str(out)])
    for name in ("model.safetensors", "samples.png", "loss.csv", "loss.png", "summary.json"):
        assert (out / name).is_file(), name
    assert len((out / "loss.csv").read_text().splitlines()) == 1 + 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 3 and summary["family"] == "ddpm"
    with safe_open(str(out / "model.safetensors"), framework="pt") as f:
        assert json.loads(f.metadata()["config"])["timesteps"] == 10

    family, model, _ = load_model(out / "model.safetensors")
    assert family == "ddpm" and model.config.width == 8
    main(["sample", str(out / "model.safetensors"), "--n", "9", "--sampler", "ddim", "--ddim-steps", "3",
          "--out", str(tmp_path / "grid")])
    assert Image.open(tmp_path / "grid.png").mode == "L"


def test_transformer_trains_on_the_bundled_corpus_and_writes_text(tmp_path):
    main(["train", "transformer", "--steps", "2", "--batch-size", "4", "--n-samples", "2",
          "--set", "d_model=16", "n_heads=2", "n_layers=1", "block_size=16", "--out", str(tmp_path)])
    assert (tmp_path / "samples.txt").read_text()


def test_unknown_config_field_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="unknown config fields"):
        main(["train", "vae", "--dataset", "digits", "--steps", "1", "--set", "widht=3", "--out", str(tmp_path)])
