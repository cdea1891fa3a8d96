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
