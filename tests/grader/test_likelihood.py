"""The judge's side of a likelihood board (grader/likelihood.py), without Docker: what it reads
from a checkpoint, what it refuses, and that the number is the reference model's bits/dim."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_tensors

from grader.likelihood import (
    CheckpointMismatch,
    build_model,
    held_out_images,
    load_weights,
    per_image_bits,
    preview_samples,
    score_checkpoint,
)
from grader.resample import ResampleError, resample
from grader.spec import SpecError, load_exercise
from reference_models import flow, pixelcnn
from reference_models.flow_nets import RealNVP as RealNVPArchitecture
from reference_models.flow_nets import RealNVPConfig
from reference_models.pixelcnn_nets import PixelCNN as PixelCNNArchitecture
from reference_models.pixelcnn_nets import PixelCNNConfig

FLOW_OPTIONS = {"width": 4, "n_couplings": 1}
PIXELCNN_OPTIONS = {"width": 4, "n_layers": 1}


def _trained_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A state_dict whose weights are away from the initialisation (as after training)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return {k: v.contiguous() for k, v in model.state_dict().items()}


class _LeakyConv(torch.nn.Conv2d):
    """A student's masked convolution whose type A keeps the centre, with its mask under another name."""

    def __init__(self, mask_type, c_in, c_out, k):
        super().__init__(c_in, c_out, k, padding=k // 2)
        self.register_buffer("my_mask", pixelcnn.causal_conv_mask(k, "B").expand_as(self.weight).clone())

    def forward(self, x):
        return torch.nn.functional.conv2d(x, self.weight * self.my_mask, self.bias, padding=self.padding)


def test_the_score_is_the_reference_models_bits_per_dim_of_the_first_test_images_of_the_part():
    state = _trained_state(flow.RealNVP(RealNVPConfig(**FLOW_OPTIONS)))
    score, model = score_checkpoint(save_tensors(state), family="realnvp", options=FLOW_OPTIONS,
                                    dataset="fashion-mnist", n=40, part="public", seed=7)
    reference = flow.RealNVP(RealNVPConfig(**FLOW_OPTIONS))
    reference.load_state_dict(state)
    images = held_out_images("fashion-mnist", "public", 40)
    expected = per_image_bits(reference, images, seed=7)
    assert score.bits_per_dim == pytest.approx(float(expected.mean()), rel=1e-6)
    low, high = score.interval
    assert low < score.bits_per_dim < high and score.n == 40 and score.reference_part == "public"
    assert score.label == "bits/dim (Fashion-MNIST test)"
    board = score.board()
    assert board["fid"] == score.bits_per_dim and board["kid"] is None
    # the private half is other images, so another number
    private, _ = score_checkpoint(save_tensors(state), family="realnvp", options=FLOW_OPTIONS,
                                  dataset="fashion-mnist", n=40, part="private", seed=7)
    assert private.bits_per_dim != score.bits_per_dim
    assert preview_samples(model, 4, seed=1).shape == (4, 28, 28)


def test_a_flow_trained_with_the_students_functions_is_scored_with_the_reference_algebra():
    """The architecture built with the student's functions and with the reference has the same weights;
    a log-det that counts the conditioning dimensions changes what the student's loss says, not the score."""

    class WrongLogDet:
        affine_coupling_forward = staticmethod(lambda x, mask, net: (
            flow.affine_coupling_forward(x, mask, net)[0],
            torch.tanh(net(x * mask).chunk(2, dim=-1)[0]).sum(-1)))
        affine_coupling_inverse = staticmethod(flow.affine_coupling_inverse)
        standard_normal_logprob = staticmethod(flow.standard_normal_logprob)
        bits_per_dim = staticmethod(flow.bits_per_dim)

    student = RealNVPArchitecture(RealNVPConfig(**FLOW_OPTIONS), ops=WrongLogDet())
    state = _trained_state(student)
    batch = torch.from_numpy(held_out_images("fashion-mnist", "public", 8)).unsqueeze(1)
    with torch.no_grad():
        students_own = student.image_bits_per_dim(batch, torch.Generator().manual_seed(3))
    score, _ = score_checkpoint(save_tensors(state), family="realnvp", options=FLOW_OPTIONS,
                                dataset="fashion-mnist", n=8, part="public", seed=3)
    assert not math.isclose(score.bits_per_dim, float(students_own.mean()), rel_tol=1e-3)


def test_pixelcnn_weights_are_scored_under_the_reference_masks_whatever_buffers_the_checkpoint_holds():
    leaky = PixelCNNArchitecture(PixelCNNConfig(image_size=28, **PIXELCNN_OPTIONS), conv=_LeakyConv)
    state = _trained_state(leaky)
    assert "conv_in.my_mask" in state and "conv_in.mask" not in state
    score, _ = score_checkpoint(save_tensors(state), family="pixelcnn", options=PIXELCNN_OPTIONS,
                                dataset="fashion-mnist", n=16, part="public", seed=0)
    reference = pixelcnn.PixelCNN(PixelCNNConfig(**PIXELCNN_OPTIONS))
    load_weights(reference, state)
    x = torch.from_numpy(held_out_images("fashion-mnist", "public", 16)).unsqueeze(1)
    with torch.no_grad():
        expected = float(reference.image_bits_per_dim(x).mean())
    assert score.bits_per_dim == pytest.approx(expected, rel=1e-6)
    # a checkpoint that carries a reference-named mask of all ones is not read either
    forged = {**state, "conv_in.mask": torch.ones(4, 1, 7, 7)}
    again, _ = score_checkpoint(save_tensors(forged), family="pixelcnn", options=PIXELCNN_OPTIONS,
                                dataset="fashion-mnist", n=16, part="public", seed=0)
    assert again.bits_per_dim == score.bits_per_dim


@pytest.mark.parametrize(("change", "words"), [
    (lambda s: {k: v for k, v in s.items() if k != "stage1.0.net.0.weight"}, "has no stage1.0.net.0.weight"),
    (lambda s: {**s, "stage1.0.net.0.weight": torch.zeros(3, 1, 3, 3)}, "of shape (3, 1, 3, 3)"),
    (lambda s: {**s, "stage1.0.net.0.weight": torch.zeros(4, 1, 3, 3, dtype=torch.int64)}, "torch.int64"),
])
def test_a_checkpoint_that_does_not_fit_the_architecture_is_refused_with_a_reason(change, words):
    state = flow.RealNVP(RealNVPConfig(**FLOW_OPTIONS)).state_dict()
    with pytest.raises(CheckpointMismatch, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_weights(build_model("realnvp", FLOW_OPTIONS), change(state))


def test_only_the_config_fields_of_the_options_build_the_model_and_unknown_families_are_refused():
    model = build_model("pixelcnn", {"width": 4, "n_layers": 2, "sample_batch": 9})
    assert len(model.layers) == 2 and model.conv_in.out_channels == 4
    with pytest.raises(ValueError, match="no likelihood board"):
        build_model("dcgan", {})


def test_per_image_bits_of_an_untrained_flow_are_near_eight_and_repeat_with_the_seed():
    model = build_model("realnvp", FLOW_OPTIONS)
    images = held_out_images("fashion-mnist", None, 12)
    a, b = per_image_bits(model, images, seed=5), per_image_bits(model, images, seed=5)
    assert a.shape == (12,) and np.array_equal(a, b) and 6.0 < a.mean() < 10.0


def test_the_exercise_table_names_a_known_family(tmp_path):
    bad = tmp_path / "flow-bad"
    bad.mkdir()
    src = load_exercise("flow-train").path
    for name in ("checks.py", "scaffold.py"):
        (bad / name).write_text((src / name).read_text())
    toml = (src / "exercise.toml").read_text().replace('extends = "flow-coupling"', 'functions = ["f"]')
    (bad / "exercise.toml").write_text(toml.replace('family = "realnvp"', 'family = "dcgan"'))
    with pytest.raises(SpecError, match="family 'dcgan'"):
        load_exercise("flow-bad", tmp_path)


def test_the_private_board_scores_the_stored_weights_on_the_other_half_without_a_sandbox():
    exercise = load_exercise("flow-train")
    options = exercise.training.options(exercise.training.profile("tiny"))
    state = _trained_state(build_model("realnvp", options))
    block = resample(exercise, "solution.py", b"", save_tensors(state), sandbox=None, seed=11, profile="tiny")
    public, _ = score_checkpoint(save_tensors(state), family="realnvp", options=options, dataset="fashion-mnist",
                                 n=500, part="public", seed=11)
    assert block["reference_part"] == "private" and block["n_samples"] == 500 and block["metric"] == "bits_per_dim"
    assert math.isfinite(block["fid"]) and block["fid"] != public.bits_per_dim
    with pytest.raises(ResampleError, match="does not fit the scaffold's architecture"):
        resample(exercise, "solution.py", b"", save_tensors({"x": torch.zeros(1)}), sandbox=None, seed=11,
                 profile="tiny")
