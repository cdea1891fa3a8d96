"""MNIST and Fashion-MNIST from the IDX `.gz` files a user already has.

IDX layout (big-endian): a 4-byte magic (0, 0, dtype code, number of dims),
one 4-byte size per dim, then the values. Images have magic 2051 (uint8, 3
dims) and start at byte 16; labels have magic 2049 (uint8, 1 dim) and start
at byte 8. Every check failure is a DataError naming the file.
"""

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from common.data.dataset import DataError, RawSplits
from common.data.locate import find_files

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
IMAGE_SIDE = 28
NUM_CLASSES = 10
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def read_idx(path: Path, magic: int) -> np.ndarray:
    """The uint8 array stored in the gzipped IDX file `path`, after checking its header and size."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{path}: not a readable gzip file ({e})") from None
    if len(raw) < 4:
        raise DataError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(f"{path}: IDX magic number {found}, expected {magic}")
    ndim = raw[3]
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header_len})")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header_len + math.prod(dims)  # Python ints: no overflow for any header
    if len(raw) != expected:
        raise DataError(
            f"{path}: {len(raw)} bytes but the header {dims} implies {expected}"
            " (truncated or padded)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims)


def read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28, 1) uint8 and labels (N,) int32 from one IDX image/label file pair."""
    images = read_idx(images_path, IMAGE_MAGIC)
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{images_path}: images are {images.shape[1:]}, expected (28, 28)")
    if images.shape[0] == 0:
        raise DataError(f"{images_path}: holds no images (the header's count is 0)")
    labels = read_idx(labels_path, LABEL_MAGIC)
    if labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{labels_path}: {labels.shape[0]} labels but {images_path.name}"
            f" has {images.shape[0]} images"
        )
    if labels.max() >= NUM_CLASSES:
        raise DataError(f"{labels_path}: label {labels.max()} is not in 0..{NUM_CLASSES - 1}")
    return images[..., None], labels.astype(np.int32)


def load_idx(name: str, data_dir: Path | None) -> RawSplits:
    """The train and test splits of `name` ("mnist" or "fashion-mnist") from `data_dir`."""
    folder = find_files(name, data_dir, list(FILES.values()), subfolder=name)
    x_train, y_train = read_pair(folder / FILES["train_images"], folder / FILES["train_labels"])
    x_test, y_test = read_pair(folder / FILES["test_images"], folder / FILES["test_labels"])
    return RawSplits(x_train, y_train, x_test, y_test)
