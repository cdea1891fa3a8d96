"""MNIST-1D (Greydanus 2020) generated offline and cached under the user's cache directory.

The data set is regenerated with `mnist1d.data.make_dataset(get_dataset_args())`,
which reproduces the published 4,000 / 1,000 split from seed 42 in a few
seconds; `mnist1d.get_dataset` is never called because it downloads a pickle.
The result is cached as an uncompressed .npz (no pickle inside) named by the
package version, written atomically.
"""

import importlib.metadata
import os
import random
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from common.data.dataset import RawSplits

NUM_TRAIN, NUM_TEST, LENGTH, NUM_CLASSES = 4000, 1000, 40, 10
KEYS = ("x_train", "y_train", "x_test", "y_test")


def user_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/theory-lab`, or `~/.cache/theory-lab` when that variable is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "theory-lab"


def cache_path(cache_dir: Path | None = None) -> Path:
    """Where the cached arrays live, named by the mnist1d version.

    The generation arguments are that version's defaults, so the version names
    the data; it is read from the package metadata, which avoids importing
    mnist1d (seconds: it pulls in matplotlib and scipy) when the cache is valid.
    """
    version = importlib.metadata.version("mnist1d")
    return (cache_dir or user_cache_dir()) / f"mnist1d-{version}-default-args.npz"


def generate() -> RawSplits:
    """A fresh generation: x float64 (N, 40) and y int64 (N,), the values `make_dataset` returns.

    make_dataset reseeds Python's and numpy's global generators; their states are
    restored afterwards so loading data does not change anyone's random numbers.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    x_train, x_test = (np.asarray(data[k], dtype=np.float64) for k in ("x", "x_test"))
    y_train, y_test = (np.asarray(data[k], dtype=np.int64) for k in ("y", "y_test"))
    return RawSplits(x_train, y_train, x_test, y_test)


def read_cache(path: Path) -> RawSplits | None:
    """The cached splits, or None when the file is missing, unreadable or not what we wrote."""
    expected = {
        "x_train": ((NUM_TRAIN, LENGTH), np.float64),
        "y_train": ((NUM_TRAIN,), np.int64),
        "x_test": ((NUM_TEST, LENGTH), np.float64),
        "y_test": ((NUM_TEST,), np.int64),
    }
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        warnings.warn(f"{path}: unreadable MNIST-1D cache ({e}); regenerating", stacklevel=3)
        return None
    for key, (shape, dtype) in expected.items():
        a = arrays[key]
        if a.shape != shape or a.dtype != dtype:
            warnings.warn(f"{path}: {key} is {a.dtype}{a.shape}; regenerating", stacklevel=3)
            return None
    labels_ok = all(((arrays[k] >= 0) & (arrays[k] < NUM_CLASSES)).all() for k in KEYS[1::2])
    if not labels_ok or not all(np.isfinite(arrays[k]).all() for k in KEYS[0::2]):
        warnings.warn(f"{path}: labels or features out of range; regenerating", stacklevel=3)
        return None
    return RawSplits(**arrays)


def write_cache(path: Path, splits: RawSplits) -> None:
    """Write `splits` to `path` whole or not at all: a temp file beside it, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **splits._asdict())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_mnist1d(cache_dir: Path | None = None) -> RawSplits:
    """MNIST-1D's 4,000 train and 1,000 test signals, from the cache or freshly generated.

    A missing or corrupt cache file is regenerated; if the cache folder cannot be
    written, the data are returned anyway with a warning.
    """
    path = cache_path(cache_dir)
    splits = read_cache(path)
    if splits is None:
        splits = generate()
        try:
            write_cache(path, splits)
        except OSError as e:
            warnings.warn(f"{path}: could not cache MNIST-1D ({e})", stacklevel=2)
    return splits
