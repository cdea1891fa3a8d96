"""CIFAR-10 from its binary batches (`cifar-10-batches-bin`); the pickle version is never read.

Each record is 1 label byte followed by 3072 pixel bytes: the red, green and
blue 32x32 planes in turn (CHW), rows top to bottom. A file's size must be a
whole number of 3073-byte records.
"""

from pathlib import Path

import numpy as np

from common.data.dataset import DataError, RawSplits
from common.data.locate import find_files

SUBFOLDER = "cifar-10-batches-bin"
TRAIN_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)]
TEST_FILE = "test_batch.bin"
SIDE, CHANNELS, NUM_CLASSES = 32, 3, 10
RECORD_BYTES = 1 + CHANNELS * SIDE * SIDE


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 NHWC and labels (N,) int32 from one binary batch file."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e})") from None
    if raw.size == 0 or raw.size % RECORD_BYTES:
        raise DataError(
            f"{path}: {raw.size} bytes is not a positive multiple of the {RECORD_BYTES}-byte record"
        )
    records = raw.reshape(-1, RECORD_BYTES)
    labels = records[:, 0]
    if labels.max() >= NUM_CLASSES:
        raise DataError(f"{path}: label {labels.max()} is not in 0..{NUM_CLASSES - 1}")
    images = records[:, 1:].reshape(-1, CHANNELS, SIDE, SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int32)


def load_cifar10(data_dir: Path | None) -> RawSplits:
    """The 50,000 training and 10,000 test images of CIFAR-10 from `data_dir`."""
    folder = find_files("cifar10", data_dir, TRAIN_FILES + [TEST_FILE], subfolder=SUBFOLDER)
    train = [read_batch(folder / f) for f in TRAIN_FILES]
    x_test, y_test = read_batch(folder / TEST_FILE)
    return RawSplits(
        np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test
    )
