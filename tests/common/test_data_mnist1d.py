"""MNIST-1D: offline generation, the .npz cache round trip, and regeneration of a broken cache.

The cache is pointed at tmp folders (XDG_CACHE_HOME or cache_dir), never the real one.
One real generation (~3 s) is shared by the module; the other tests stub it.
"""

import random
import zipfile

import numpy as np
import pytest

import common.data.mnist1d as mnist1d_data
from common.data import load
from common.data.dataset import RawSplits


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """One real generation by load_mnist1d into an empty cache, and the RNG states around it."""
    cache_dir = tmp_path_factory.mktemp("cache")
    np.random.seed(123)
    random.seed(123)
    np_before, py_before = np.random.get_state(), random.getstate()
    splits = mnist1d_data.load_mnist1d(cache_dir)
    rng_states = (np_before, py_before, np.random.get_state(), random.getstate())
    return cache_dir, splits, rng_states


def assert_same(a: RawSplits, b: RawSplits) -> None:
    for x, y in zip(a, b):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def test_generation_shapes_and_labels(generated):
    _, splits, _ = generated
    assert splits.x_train.shape == (4000, 40) and splits.x_test.shape == (1000, 40)
    assert splits.y_train.shape == (4000,) and splits.y_test.shape == (1000,)
    # make_dataset draws 500 examples of each digit before shuffling and splitting.
    counts = np.bincount(splits.y_train, minlength=10) + np.bincount(splits.y_test, minlength=10)
    np.testing.assert_array_equal(counts, 500)


def test_cache_equals_fresh_generation(generated, monkeypatch):
    cache_dir, splits, _ = generated
    path = mnist1d_data.cache_path(cache_dir)
    assert path.is_file() and path.parent == cache_dir
    assert [p.name for p in cache_dir.iterdir()] == [path.name]  # no temp file left behind
    with zipfile.ZipFile(path) as z:  # plain .npy members only: nothing pickled
        assert sorted(z.namelist()) == sorted(f"{k}.npy" for k in mnist1d_data.KEYS)
    assert_same(mnist1d_data.read_cache(path), splits)

    def no_generation():
        raise AssertionError("generated although the cache is valid")

    monkeypatch.setattr(mnist1d_data, "generate", no_generation)
    assert_same(mnist1d_data.load_mnist1d(cache_dir), splits)


def test_generation_restores_global_rng_state(generated):
    np_before, py_before, np_after, py_after = generated[2]
    assert py_before == py_after
    for a, b in zip(np_before, np_after):
        np.testing.assert_array_equal(a, b)


def test_cache_dir_from_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert mnist1d_data.cache_path().parent == tmp_path / "theory-lab"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist1d_data.cache_path().parent == tmp_path / "home" / ".cache" / "theory-lab"


def test_load_standardizes_by_train_stats(generated, monkeypatch, tmp_path):
    _, splits, _ = generated
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(mnist1d_data, "generate", lambda: splits)
    ds = load("mnist1d")
    assert ds.x_train.shape == (4000, 40) and ds.x_train.dtype == np.float32
    assert ds.y_train.dtype == np.int32 and ds.num_classes == 10
    mean, std = splits.x_train.mean(), splits.x_train.std()
    np.testing.assert_allclose(ds.x_train, (splits.x_train - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ds.x_test, (splits.x_test - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(ds.y_test, splits.y_test)
    assert mnist1d_data.cache_path(tmp_path / "theory-lab").is_file()


def garbage(path, splits):
    path.write_bytes(b"not an npz file at all")


def truncated(path, splits):
    mnist1d_data.write_cache(path, splits)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def empty(path, splits):
    path.write_bytes(b"")


def wrong_shape(path, splits):
    np.savez(path, x_train=splits.x_train[:10], y_train=splits.y_train,
             x_test=splits.x_test, y_test=splits.y_test)


def missing_key(path, splits):
    np.savez(path, x_train=splits.x_train, y_train=splits.y_train, x_test=splits.x_test)


def pickled_object(path, splits):
    np.savez(path, x_train=np.array([{"a": 1}], dtype=object), y_train=splits.y_train,
             x_test=splits.x_test, y_test=splits.y_test)


def flipped_byte(path, splits):
    mnist1d_data.write_cache(path, splits)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0xFF  # inside x_train's data: caught by the zip member's CRC-32
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    "corrupt", [garbage, truncated, empty, wrong_shape, missing_key, pickled_object, flipped_byte]
)
def test_corrupt_cache_is_regenerated(generated, monkeypatch, tmp_path, corrupt):
    _, splits, _ = generated
    path = mnist1d_data.cache_path(tmp_path)
    corrupt(path, splits)
    calls = []
    monkeypatch.setattr(mnist1d_data, "generate", lambda: calls.append(1) or splits)
    with pytest.warns(UserWarning, match="regenerating"):
        assert_same(mnist1d_data.load_mnist1d(tmp_path), splits)
    assert calls == [1]
    assert_same(mnist1d_data.read_cache(path), splits)  # rewritten whole


def test_failed_write_leaves_no_file(generated, monkeypatch, tmp_path):
    _, splits, _ = generated
    path = mnist1d_data.cache_path(tmp_path)

    def broken_savez(f, **arrays):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(mnist1d_data.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        mnist1d_data.write_cache(path, splits)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_cache_still_returns_data(generated, monkeypatch, tmp_path):
    _, splits, _ = generated
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setattr(mnist1d_data, "generate", lambda: splits)
    with pytest.warns(UserWarning, match="could not cache"):
        assert_same(mnist1d_data.load_mnist1d(blocker / "cache"), splits)
