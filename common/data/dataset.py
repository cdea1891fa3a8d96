"""The data set record, the one error type, and the standardization every loader shares."""

from typing import NamedTuple

import numpy as np


class DataError(ValueError):
    """Bad or missing data file: message is one clear line naming the file and the problem."""


class Dataset(NamedTuple):
    """A classification data set, features standardized by training-set statistics.

    Features are float32: mnist1d (N, 40); images NHWC (N, H, W, C), or (N, H*W*C)
    when loaded with flatten=True. Labels are int32 in [0, num_classes).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int


class RawSplits(NamedTuple):
    """What a format reader returns: features as stored (uint8 pixels NHWC, or floats), labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of `x` over every axis but the last (the channel axis), in float64.

    uint8 pixels are counted in a histogram per channel, which is exact and needs
    no float copy of the (possibly 150M-value) training set.
    """
    if x.dtype == np.uint8:
        values = np.arange(256, dtype=np.float64)
        means, stds = [], []
        for c in range(x.shape[-1]):
            counts = np.bincount(x[..., c].ravel(), minlength=256).astype(np.float64)
            p = counts / counts.sum()
            mean = p @ values
            means.append(mean)
            stds.append(np.sqrt(p @ (values - mean) ** 2))
        return np.array(means), np.array(stds)
    axes = tuple(range(x.ndim - 1))
    return x.mean(axis=axes, dtype=np.float64), x.std(axis=axes, dtype=np.float64)


def standardize(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(x - mean) / std as float32, broadcasting the statistics over the last axis.

    A constant channel (std 0) is only centered.
    """
    out = x.astype(np.float32)
    out -= mean.astype(np.float32)
    out /= np.where(std > 0, std, 1.0).astype(np.float32)
    return out


class TuningSplit(NamedTuple):
    """The training examples cut in two: `fit` trains, `validation` chooses (hyperparameters, the
    length of training); the test set stays untouched until the choice is made."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray


def validation_split(data: Dataset, fraction: float = 0.1, seed: int = 0) -> TuningSplit:
    """Hold out `fraction` of the training examples, drawn by a seeded permutation."""
    if not 0 < fraction < 1:
        raise ValueError(f"validation fraction must be in (0, 1) (got {fraction})")
    n = data.x_train.shape[0]
    held = int(round(fraction * n))
    if held < 1 or held >= n:
        raise ValueError(f"a validation fraction of {fraction} leaves no examples on one side of {n}")
    order = np.random.default_rng(seed).permutation(n)
    fit_index, val_index = np.sort(order[held:]), np.sort(order[:held])
    return TuningSplit(data.x_train[fit_index], data.y_train[fit_index], data.x_train[val_index],
                       data.y_train[val_index])
