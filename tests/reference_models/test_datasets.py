import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from reference_models.datasets import (
    DATASETS,
    IDX_STEMS,
    Download,
    LocalDirectory,
    MissingDatasetError,
    load_dataset,
    read_idx,
)


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)
    return data


def fake_idx_dir(root: Path, gz: bool) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    payloads = {}
    for split, n in (("train", 5), ("test", 3)):
        img, lab = IDX_STEMS[split]
        payloads[img] = write_idx(root / (img + ".gz" * gz), rng.integers(0, 256, (n, 28, 28)), gz)
        payloads[lab] = write_idx(root / (lab + ".gz" * gz), rng.integers(0, 10, (n,)), gz)
    return payloads


def test_fashion_mnist_full_splits_from_the_debian_package():
    x, y = load_dataset("fashion-mnist", "train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [6000] * 10
    x, y = load_dataset("fashion-mnist", "test")
    assert x.shape == (10000, 28, 28) and x.max() == 255


@pytest.mark.slow
def test_mnist_5k_is_shuffled_and_split_4k_1k():
    x, y = load_dataset("mnist-5k", "train")
    xt, yt = load_dataset("mnist-5k", "test")
    assert x.shape == (4000, 28, 28) and xt.shape == (1000, 28, 28) and x.dtype == np.uint8
    assert len(set(y[:50].tolist())) > 5  # not sorted by class any more
    assert sorted(np.unique(yt).tolist()) == list(range(10))
    np.testing.assert_array_equal(load_dataset("mnist-5k", "train")[0], x)  # fixed seed


def test_digits_rescaled_to_bytes():
    x, y = load_dataset("digits", "train")
    xt, _ = load_dataset("digits", "test")
    assert x.shape[1:] == (8, 8) and len(x) + len(xt) == 1797
    assert x.dtype == np.uint8 and x.max() == 255 and y.dtype == np.int64


@pytest.mark.parametrize("gz", [False, True])
def test_local_directory_of_idx_files(tmp_path, gz):
    fake_idx_dir(tmp_path, gz)
    x, y = load_dataset("anything", "test", root=tmp_path)
    assert x.shape == (3, 28, 28) and y.shape == (3,)
    np.testing.assert_array_equal(read_idx(tmp_path / ("t10k-images-idx3-ubyte" + ".gz" * gz)), x)


def test_local_directory_of_npz_files(tmp_path):
    images = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8)
    np.savez(tmp_path / "train.npz", images=images, labels=np.array([1, 2]))
    x, y = LocalDirectory(tmp_path).load("train")
    np.testing.assert_array_equal(x, images)
    assert y.dtype == np.int64


def test_missing_source_says_how_to_get_it(tmp_path):
    with pytest.raises(MissingDatasetError, match="apt-get install dataset-fashion-mnist"):
        LocalDirectory(tmp_path, hint=DATASETS["fashion-mnist"].hint).load("train")
    with pytest.raises(KeyError, match="unknown dataset"):
        load_dataset("cifar-1000")


def serve(directory: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_download_verifies_the_checksum_over_a_local_http_server(tmp_path):
    remote = tmp_path / "remote"
    remote.mkdir()
    payloads = fake_idx_dir(remote, gz=True)
    server = serve(remote)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        urls = {stem: base + stem + ".gz" for stem in payloads}
        sha = {stem: hashlib.sha256(data).hexdigest() for stem, data in payloads.items()}
        x, y = Download(urls, sha, tmp_path / "cache").load("train")
        assert x.shape == (5, 28, 28) and y.shape == (5,) and (tmp_path / "cache" / "train-images-idx3-ubyte").is_file()

        bad = dict(sha, **{"t10k-images-idx3-ubyte": "0" * 64})
        with pytest.raises(ValueError, match="SHA-256"):
            Download(urls, bad, tmp_path / "cache2").load("test")
        assert not (tmp_path / "cache2" / "t10k-images-idx3-ubyte").exists()
    finally:
        server.shutdown()
