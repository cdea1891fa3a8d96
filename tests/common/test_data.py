"""IDX and CIFAR-10 binary loaders on tiny files built here, well-formed and broken, and load()."""

import gzip
import struct

import numpy as np
import pytest

from common.data import DATASETS, DataError, cifar, idx, load
from common.data.cifar import read_batch
from common.data.dataset import channel_stats
from common.data.idx import read_pair

IDX_NAMES = idx.FILES  # the file names the loaders look for
CIFAR_NAMES = [*cifar.TRAIN_FILES, cifar.TEST_FILE]


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An IDX file's bytes: big-endian magic, one big-endian size per dim, the uint8 values."""
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path, data: bytes) -> None:
    with gzip.open(path, "wb") as f:
        f.write(data)


@pytest.fixture
def idx_arrays():
    rng = np.random.default_rng(0)
    return {
        "train_images": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "train_labels": np.array([0, 9, 3, 3, 7], dtype=np.uint8),
        "test_images": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "test_labels": np.array([1, 2, 8], dtype=np.uint8),
    }


def write_idx_set(folder, arrays) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for key, array in arrays.items():
        write_gz(folder / IDX_NAMES[key], idx_bytes(array, 2051 if "images" in key else 2049))


def test_idx_round_trip_exact(tmp_path, idx_arrays):
    write_idx_set(tmp_path, idx_arrays)
    images, labels = read_pair(
        tmp_path / IDX_NAMES["train_images"], tmp_path / IDX_NAMES["train_labels"]
    )
    assert images.dtype == np.uint8 and images.shape == (5, 28, 28, 1)
    np.testing.assert_array_equal(images[..., 0], idx_arrays["train_images"])
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, idx_arrays["train_labels"])


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
@pytest.mark.parametrize("in_subfolder", [False, True])
def test_load_idx_standardized_by_train_stats(tmp_path, idx_arrays, name, in_subfolder):
    write_idx_set(tmp_path / name if in_subfolder else tmp_path, idx_arrays)
    ds = load(name, tmp_path)
    assert ds.name == name and ds.num_classes == 10
    assert ds.x_train.shape == (5, 28, 28, 1) and ds.x_test.shape == (3, 28, 28, 1)
    assert ds.x_train.dtype == ds.x_test.dtype == np.float32
    assert ds.y_train.dtype == ds.y_test.dtype == np.int32
    np.testing.assert_array_equal(ds.y_train, idx_arrays["train_labels"])
    np.testing.assert_array_equal(ds.y_test, idx_arrays["test_labels"])
    train = idx_arrays["train_images"].astype(np.float64)
    mean, std = train.mean(), train.std()
    np.testing.assert_allclose(ds.x_train.mean(), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(), 1.0, rtol=1e-5)
    expected_test = (idx_arrays["test_images"].astype(np.float64) - mean) / std
    np.testing.assert_allclose(ds.x_test[..., 0], expected_test, rtol=1e-5, atol=1e-5)


def test_load_idx_flatten(tmp_path, idx_arrays):
    write_idx_set(tmp_path, idx_arrays)
    ds = load("mnist", str(tmp_path), flatten=True)
    assert ds.x_train.shape == (5, 784) and ds.x_test.shape == (3, 784)
    nhwc = load("mnist", tmp_path)
    np.testing.assert_array_equal(ds.x_train, nhwc.x_train.reshape(5, 784))


def truncate_payload(arrays, path):
    write_gz(path, idx_bytes(arrays["train_images"], 2051)[:-1])


def pad_payload(arrays, path):
    write_gz(path, idx_bytes(arrays["train_images"], 2051) + b"\0")


def wrong_image_magic(arrays, path):
    write_gz(path, idx_bytes(arrays["train_images"], 2049))


def wrong_label_magic(arrays, path):
    write_gz(path, idx_bytes(arrays["train_labels"], 2051))


def count_mismatch(arrays, path):
    write_gz(path, idx_bytes(arrays["train_labels"][:4], 2049))


def label_out_of_range(arrays, path):
    write_gz(path, idx_bytes(np.array([0, 1, 10, 2, 3]), 2049))


def wrong_image_size(arrays, path):
    write_gz(path, idx_bytes(arrays["train_images"][:, :27], 2051))


def not_gzip(arrays, path):
    path.write_bytes(idx_bytes(arrays["train_images"], 2051))


def truncated_gzip(arrays, path):
    write_gz(path, idx_bytes(arrays["train_images"], 2051))
    path.write_bytes(path.read_bytes()[:200])


def header_only(arrays, path):
    write_gz(path, struct.pack(">I", 2051) + b"\0\0")


@pytest.mark.parametrize(
    "breakage,key,phrase",
    [
        (truncate_payload, "train_images", "bytes but the header"),
        (pad_payload, "train_images", "bytes but the header"),
        (wrong_image_magic, "train_images", "magic number 2049, expected 2051"),
        (wrong_label_magic, "train_labels", "magic number 2051, expected 2049"),
        (count_mismatch, "train_labels", "4 labels but"),
        (label_out_of_range, "train_labels", "label 10"),
        (wrong_image_size, "train_images", "expected (28, 28)"),
        (not_gzip, "train_images", "gzip"),
        (truncated_gzip, "train_images", "gzip"),
        (header_only, "train_images", "truncated IDX header"),
    ],
)
def test_broken_idx_file_names_the_file(tmp_path, idx_arrays, breakage, key, phrase):
    write_idx_set(tmp_path, idx_arrays)
    breakage(idx_arrays, tmp_path / IDX_NAMES[key])
    with pytest.raises(DataError) as info:
        load("mnist", tmp_path)
    message = str(info.value)
    assert IDX_NAMES[key] in message and phrase in message
    assert "\n" not in message


def test_missing_idx_file_is_named(tmp_path, idx_arrays):
    write_idx_set(tmp_path, idx_arrays)
    (tmp_path / IDX_NAMES["test_labels"]).unlink()
    with pytest.raises(DataError, match=r"missing in .*: t10k-labels-idx1-ubyte\.gz\)$"):
        load("fashion-mnist", tmp_path)


def test_no_data_dir_or_empty_dir(tmp_path):
    expected = r"^mnist needs --data-dir DIR with train-images-idx3-ubyte\.gz"
    with pytest.raises(DataError, match=expected):
        load("mnist")
    with pytest.raises(DataError, match=r"\(not found in .*\)$") as info:
        load("mnist", tmp_path)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(DataError, match=r"^cifar10 needs --data-dir DIR with data_batch_1\.bin"):
        load("cifar10", tmp_path)


def test_unknown_name_lists_known_names():
    with pytest.raises(DataError) as info:
        load("imagenet")
    assert isinstance(info.value, ValueError)
    assert "imagenet" in str(info.value)
    assert all(name in str(info.value) for name in DATASETS)


def cifar_record(label: int, chw: np.ndarray) -> bytes:
    return bytes([label]) + chw.astype(np.uint8).tobytes()


def make_cifar_batch(rng, n):
    """n images with clearly different per-channel distributions, as (labels, CHW images)."""
    labels = rng.integers(0, 10, n)
    chw = np.stack(
        [
            rng.integers(0, 50, (n, 32, 32)),
            rng.integers(100, 256, (n, 32, 32)),
            rng.integers(0, 256, (n, 32, 32)),
        ],
        axis=1,
    )
    return labels, chw


@pytest.fixture
def cifar_batches():
    rng = np.random.default_rng(1)
    return [make_cifar_batch(rng, n) for n in (2, 1, 3, 2, 2, 3)]


def write_cifar_set(folder, batches) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (labels, chw) in zip(CIFAR_NAMES, batches):
        (folder / name).write_bytes(b"".join(cifar_record(y, x) for y, x in zip(labels, chw)))


def test_cifar_batch_round_trip_chw_to_nhwc(tmp_path, cifar_batches):
    write_cifar_set(tmp_path, cifar_batches)
    images, labels = read_batch(tmp_path / "data_batch_3.bin")
    expected_labels, chw = cifar_batches[2]
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, expected_labels)
    for n in range(3):
        for c in range(3):
            np.testing.assert_array_equal(images[n, :, :, c], chw[n, c])


def test_load_cifar_per_channel_standardization(tmp_path, cifar_batches):
    write_cifar_set(tmp_path / "cifar-10-batches-bin", cifar_batches)
    ds = load("cifar10", tmp_path)
    assert ds.x_train.shape == (10, 32, 32, 3) and ds.x_test.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(ds.y_train, np.concatenate([y for y, _ in cifar_batches[:5]]))
    np.testing.assert_array_equal(ds.y_test, cifar_batches[5][0])
    np.testing.assert_allclose(ds.x_train.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(axis=(0, 1, 2)), 1.0, rtol=1e-5)
    train_nhwc = np.concatenate([x for _, x in cifar_batches[:5]]).transpose(0, 2, 3, 1)
    mean, std = train_nhwc.mean(axis=(0, 1, 2)), train_nhwc.std(axis=(0, 1, 2))
    expected_test = (cifar_batches[5][1].transpose(0, 2, 3, 1) - mean) / std
    np.testing.assert_allclose(ds.x_test, expected_test, rtol=1e-5, atol=1e-5)
    assert load("cifar10", tmp_path, flatten=True).x_test.shape == (3, 3072)


@pytest.mark.parametrize(
    "name,corrupt,phrase",
    [
        ("data_batch_2.bin", lambda b: b[:-1], "not a positive multiple of the 3073-byte record"),
        ("test_batch.bin", lambda b: b + b"\0", "not a positive multiple of the 3073-byte record"),
        ("data_batch_5.bin", lambda b: b"", "0 bytes"),
        ("data_batch_1.bin", lambda b: b"\x0a" + b[1:], "label 10"),
    ],
)
def test_broken_cifar_batch_names_the_file(tmp_path, cifar_batches, name, corrupt, phrase):
    write_cifar_set(tmp_path, cifar_batches)
    path = tmp_path / name
    path.write_bytes(corrupt(path.read_bytes()))
    with pytest.raises(DataError) as info:
        load("cifar10", tmp_path)
    assert name in str(info.value) and phrase in str(info.value)


def test_missing_cifar_batch_is_named(tmp_path, cifar_batches):
    write_cifar_set(tmp_path, cifar_batches)
    (tmp_path / "data_batch_4.bin").unlink()
    with pytest.raises(DataError, match=r"missing in .*: data_batch_4\.bin\)$"):
        load("cifar10", tmp_path)


def test_channel_stats_uint8_histogram_matches_numpy():
    x = np.random.default_rng(2).integers(0, 256, (7, 5, 4, 3), dtype=np.uint8)
    mean, std = channel_stats(x)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 1, 2)), rtol=1e-12)
    np.testing.assert_allclose(std, x.std(axis=(0, 1, 2)), rtol=1e-12)
