"""FID (Fashion-MNIST features) on real data: zero on itself, small between the
splits, and rising monotonically with blur and with noise strength."""
import pytest

from grader.metrics import fashion_extractor, score_samples
from grader.metrics.__main__ import main
from grader.metrics.degrade import gaussian_blur, gaussian_noise
from grader.metrics.reference import reference_key, reference_stats
from reference_models.datasets import load_dataset


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    cache = tmp_path_factory.mktemp("metrics-cache")
    test_images, _ = load_dataset("fashion-mnist", "test")
    return fashion_extractor(), cache, test_images


def fid(images, setting):
    extractor, cache, _ = setting
    return score_samples(images, extractor=extractor, cache=cache, kid_subsets=5, kid_subset_size=500)


@pytest.mark.slow
def test_test_split_against_itself_is_zero_and_train_is_close(setting):
    _, _, test_images = setting
    same = fid(test_images, setting)
    assert same.label == "FID (Fashion-MNIST features)" and same.n == 10000
    assert abs(same.fid) < 1e-6
    train_images, _ = load_dataset("fashion-mnist", "train")
    floor = fid(train_images[:10000], setting)
    assert 0 < floor.fid < 5 and abs(floor.kid) < 0.05


@pytest.mark.slow
def test_fid_rises_with_blur_and_with_noise(setting):
    _, _, test_images = setting
    subset = test_images[:2000]
    blur = [fid(gaussian_blur(subset, s), setting).fid for s in (0.0, 0.5, 1.0, 2.0)]
    noise = [fid(gaussian_noise(subset, s), setting).fid for s in (0.0, 16.0, 32.0, 64.0)]
    assert blur == sorted(blur) and blur[-1] > 10 * blur[0], blur
    assert noise == sorted(noise) and noise[-1] > 10 * noise[0], noise


@pytest.mark.slow
def test_reference_statistics_are_cached_under_the_extractor_hash(setting, monkeypatch):
    extractor, cache, _ = setting
    key = reference_key("fashion-mnist", "test", extractor)
    assert key == f"fashion-mnist-test-fashion-cnn-{extractor.sha256[:16]}"
    reference_stats("fashion-mnist", "test", extractor, cache)
    assert (cache / f"{key}.npz").is_file()

    def no_loading(*args, **kwargs):
        raise AssertionError("cached statistics must not reload the dataset")

    monkeypatch.setattr("grader.metrics.reference.load_dataset", no_loading)
    ref = reference_stats("fashion-mnist", "test", extractor, cache)
    assert ref.stats.n == 10000 and ref.features.shape == (10000, 128)


@pytest.mark.slow
def test_precompute_command_writes_the_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRADER_METRICS_CACHE", str(tmp_path))
    main(["fashion-mnist", "test"])
    assert "N = 10000, D = 128" in capsys.readouterr().out
    assert len(list(tmp_path.glob("fashion-mnist-test-fashion-cnn-*.npz"))) == 1
