"""Precision/recall/density/coverage, FID's bootstrap interval, the class shares and the
public/private reference parts, on known cases: real vs real, a single class, blurred images.

Uses the default metrics cache (var/metrics/): the test split's features are computed once
there; the parts and the k-NN radii are cut from them and cached beside them."""
import dataclasses
import json
import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from grader.metrics import fashion_extractor
from grader.metrics.classes import CLASS_NAMES, class_shares, predict
from grader.metrics.degrade import gaussian_blur
from grader.metrics.fidelity import _radii_memory, chunk_radii, fidelity, knn_radii, matched_fidelity
from grader.metrics.frechet import GaussianStats, bootstrap_fid, fid_interval, frechet_distance_stats
from grader.metrics.leaderboard import GeneratedScore, score_part
from grader.metrics.reference import part_indices, reference_key, reference_stats
from grader.metrics.score import board_fields, score_samples
from grader.spec import TrainingProfile
from grader.training_outputs import TrainingOutcome
from reference_models.datasets import load_dataset

K = 5


def identical_coverage(n_reference: int, n_samples: int, k: int = K) -> float:
    """Expected coverage when samples and references come from one distribution (Naeem et al.
    2020): a reference point is uncovered when none of the k nearest of the other
    n_reference - 1 + n_samples points is a sample: 1 - C(N-1, k) / C(N+M-1, k)."""
    return 1 - math.comb(n_reference - 1, k) / math.comb(n_reference + n_samples - 1, k)


@pytest.fixture(scope="module")
def setting():
    extractor = fashion_extractor()
    images, labels = load_dataset("fashion-mnist", "test")
    public = reference_stats("fashion-mnist", "test", extractor, part="public")
    private = reference_stats("fashion-mnist", "test", extractor, part="private")
    return extractor, images, labels, public, private


def test_parts_are_disjoint_halves_with_their_own_cache_key(setting, tmp_path):
    extractor, images, _, public, private = setting
    index = np.arange(len(images))
    pub, priv = index[part_indices("public")], index[part_indices("private")]
    assert len(pub) == len(priv) == 5000 and not set(pub) & set(priv) and set(pub) | set(priv) == set(index)
    whole = reference_stats("fashion-mnist", "test", extractor)
    np.testing.assert_array_equal(public.features, whole.features[0::2])
    np.testing.assert_array_equal(private.features, whole.features[1::2])
    assert public.stats.n == private.stats.n == 5000 and (public.part, private.part) == ("public", "private")
    sha = extractor.sha256[:16]
    assert reference_key("fashion-mnist", "test", extractor) == f"fashion-mnist-test-fashion-cnn-{sha}"
    assert public.key == f"fashion-mnist-test-public-fashion-cnn-{sha}" != private.key
    with pytest.raises(ValueError, match="part must be one of"):
        part_indices("secret")


def test_fidelity_matches_the_definitions_on_small_random_sets():
    rng = np.random.default_rng(1)
    fake, real = rng.normal(size=(37, 3)), rng.normal(0.3, 1.2, size=(52, 3))
    d_ff, d_rr, d_fr = cdist(fake, fake), cdist(real, real), cdist(fake, real)
    r_fake, r_real = np.sort(d_ff, 1)[:, K], np.sort(d_rr, 1)[:, K]  # column 0 is the point itself
    np.testing.assert_allclose(knn_radii(real), r_real ** 2, rtol=1e-9)
    inside = d_fr <= r_real[None, :]
    expected = (inside.any(1).mean(), (d_fr <= r_fake[:, None]).any(0).mean(), inside.sum() / (K * len(fake)),
                (d_fr.min(0) <= r_real).mean())
    got = fidelity(fake, real)
    np.testing.assert_allclose([got.precision, got.recall, got.density, got.coverage], expected)
    assert got.k == K


def test_real_against_real_scores_high_and_coverage_as_expected(setting):
    _, _, _, public, private = setting
    same_size = fidelity(private.features, public.features)  # 5,000 against 5,000 (measured 0.942 0.940 0.997 0.966)
    assert same_size.precision > 0.9 and same_size.recall > 0.9 and abs(same_size.density - 1) < 0.05
    assert abs(same_size.coverage - identical_coverage(5000, 5000)) < 0.01  # 1 - 2^-5 = 0.969
    samples = private.features[:1000]
    unmatched = fidelity(samples, public.features)  # coverage depends on the sizes: 0.598 expected
    assert abs(unmatched.coverage - identical_coverage(5000, 1000)) < 0.03
    matched = matched_fidelity(samples, public.features)  # five chunks of 1,000 (measured 0.944 0.936 1.024 0.971)
    assert matched.precision > 0.9 and matched.recall > 0.9 and abs(matched.density - 1) < 0.07
    assert abs(matched.coverage - identical_coverage(1000, 1000)) < 0.02


def test_a_single_class_has_low_recall_and_coverage_and_a_class_share_near_one(setting):
    extractor, images, labels, _, _ = setting
    trousers = images[1::2][labels[1::2] == 1]  # the 502 trousers of the private part
    s = score_samples(trousers, part="public", extractor=extractor, kid_subsets=2, fidelity_k=K, classes=True)
    assert s.fidelity["precision"] > 0.9  # each is a good pair of trousers (measured 0.967)
    # Ideally both are 0.1, the data's share of trousers (measured 0.296, 0.160): the balls of outlying
    # samples are large and reach into other classes, which inflates recall most (Naeem et al. 2020).
    assert s.fidelity["recall"] < 0.35 and s.fidelity["coverage"] < 0.2
    assert s.class_shares["shares"][1] > 0.95 and s.class_shares["labels"][1] == "Trouser"


def test_blur_lowers_precision(setting):
    extractor, images, _, public, _ = setting
    subset = images[1::2][:1000]
    precision = [matched_fidelity(extractor(gaussian_blur(subset, sigma)), public.features).precision
                 for sigma in (0.0, 1.0, 2.0)]  # measured 0.944, 0.868, 0.672
    assert precision == sorted(precision, reverse=True) and precision[0] - precision[2] > 0.15, precision


def test_the_bootstrap_interval_holds_the_estimate_narrows_with_n_and_is_seeded(setting):
    _, _, _, public, private = setting
    widths = []
    for n in (100, 1000):
        features = private.features[:n].astype(np.float64)
        point = frechet_distance_stats(GaussianStats.from_features(features), public.stats)
        values = bootstrap_fid(features, public.stats, 100)
        low, high = fid_interval(point, values)
        assert low <= point <= high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2, widths  # about 1/sqrt(10)
    features = private.features[:200].astype(np.float64)
    np.testing.assert_array_equal(bootstrap_fid(features, public.stats, 5), bootstrap_fid(features, public.stats, 5))
    assert not np.array_equal(bootstrap_fid(features, public.stats, 5), bootstrap_fid(features, public.stats, 5, 1))
    # each value is the FID of the resample it stands for
    counts = np.random.default_rng(0).multinomial(200, np.full(200, 1 / 200), size=3)
    direct = [frechet_distance_stats(GaussianStats.from_features(np.repeat(features, c, axis=0)), public.stats)
              for c in counts]
    np.testing.assert_allclose(bootstrap_fid(features, public.stats, 3), direct, rtol=1e-8)


def test_class_shares_sum_to_one_and_are_balanced_on_real_images(setting):
    extractor, images, _, public, _ = setting
    shares = class_shares(predict(extractor.net, features=public.features))
    assert shares.labels == CLASS_NAMES["fashion-mnist"] and len(shares.labels) == 10
    assert abs(sum(shares.shares) - 1) < 1e-12 and shares.data_share == 0.1
    assert max(abs(s - 0.1) for s in shares.shares) < 0.04  # a 90%-accurate classifier
    from_images = predict(extractor.net, images=images[0::2][:300])
    np.testing.assert_array_equal(from_images, predict(extractor.net, features=public.features[:300]))


def test_reference_radii_are_cached_in_memory_and_as_npz(tmp_path):
    reference = np.random.default_rng(2).normal(size=(300, 4))
    radii = chunk_radii(reference, 100, key="toy", cache=tmp_path)
    assert radii.shape == (3, 100) and (tmp_path / "toy-knn5-n100.npz").is_file()
    assert chunk_radii(reference * 0, 100, key="toy", cache=tmp_path) is radii  # from memory
    _radii_memory.pop("toy-knn5-n100")
    np.testing.assert_array_equal(chunk_radii(reference * 0, 100, key="toy", cache=tmp_path), radii)  # from the file
    _radii_memory.pop("toy-knn5-n100")


def test_score_part_and_the_training_block_carry_the_new_keys_as_strict_json(setting):
    _, images, _, _, _ = setting
    board = score_part(images[1::2][:100], "private")  # the tiny profile's 100 samples
    assert set(board) == {"fid", "fid_label", "kid", "kid_std", "fid_interval", "fid_bootstrap", "reference_part",
                          "fidelity", "class_shares"}
    assert board["reference_part"] == "private" and board["fid_bootstrap"] == 200
    assert board["fid_interval"][0] <= board["fid"] <= board["fid_interval"][1]
    assert set(board["fidelity"]) == {"k", "precision", "recall", "density", "coverage"} and board["fidelity"]["k"] == 5
    assert set(board["class_shares"]) == {"labels", "shares", "data_share"}
    with pytest.raises(ValueError, match="expected exactly 1000 samples"):
        score_part(images[:100], "private", n_required=1000)

    fields = {k: v for k, v in board.items() if k not in ("fid_label", "fid", "kid", "kid_std")}
    fields["fid_interval"] = tuple(fields["fid_interval"])
    score = GeneratedScore(board["fid_label"], board["fid"], board["kid"], board["kid_std"], 100, 0.0, False,
                           **fields)
    outcome = TrainingOutcome(TrainingProfile("tiny", steps=10, batch_size=8, n_samples=100, train_time_s=1,
                                              sample_time_s=1), score=score, memorisation={"share": 0.0})
    block = outcome.block()
    assert {k: block[k] for k in board} == board == board_fields(score)
    json.dumps(block, allow_nan=False)
    old = dataclasses.replace(score, fid_interval=None, fidelity=None, class_shares=None, reference_part=None)
    assert set(board_fields(old)) == {"fid", "fid_label", "kid", "kid_std", "reference_part"}
