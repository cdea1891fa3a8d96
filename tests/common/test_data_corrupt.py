"""Every way an IDX or CIFAR-10 binary file can be wrong, through run.py: exit 2,
one stderr line naming the file and the problem, and no run folder (the data are
loaded before the folder is made)."""

import dataclasses
import gzip
import struct

import numpy as np
import pytest

import run
from common.data import DataError, cifar, idx
from common.runs import Session, check_data

IDX = idx.FILES  # the file names the loaders look for
CIFAR = [*cifar.TRAIN_FILES, cifar.TEST_FILE]
RECORD = cifar.RECORD_BYTES


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def images(n: int, side: int = 28) -> np.ndarray:
    return np.random.default_rng(n).integers(0, 256, (n, side, side), dtype=np.uint8)


def write_idx(folder, **override: bytes) -> None:
    """A valid 6-train / 3-test IDX set, with some files' bytes replaced."""
    files = {
        "train_images": gz(idx_bytes(images(6), 2051)),
        "train_labels": gz(idx_bytes(np.arange(6) % 10, 2049)),
        "test_images": gz(idx_bytes(images(3), 2051)),
        "test_labels": gz(idx_bytes(np.arange(3), 2049)),
    } | override
    for key, data in files.items():
        (folder / IDX[key]).write_bytes(data)


IDX_BREAKAGES = {
    "not gzip": ("train_images", idx_bytes(images(6), 2051), "not a readable gzip file"),
    "truncated gzip": ("test_images", gz(idx_bytes(images(3), 2051))[:300], "not a readable gzip file"),
    "empty file": ("train_labels", b"", "too short for an IDX header"),
    "wrong magic": ("train_images", gz(idx_bytes(images(6), 2049)), "magic number 2049, expected 2051"),
    "labels where images belong": ("test_labels", gz(idx_bytes(images(3), 2051)), "expected 2049"),
    "truncated header": ("train_images", gz(struct.pack(">III", 2051, 6, 28)), "truncated IDX header"),
    "truncated payload": ("train_images", gz(idx_bytes(images(6), 2051)[:-10]), "bytes but the header"),
    "padded payload": ("test_images", gz(idx_bytes(images(3), 2051) + b"\0"), "bytes but the header"),
    "a count past 2^64": ("train_images", gz(struct.pack(">IIII", 2051, 2**32 - 1, 2**32 - 1, 2**32 - 1)),
                          "bytes but the header"),
    "counts disagree": ("train_labels", gz(idx_bytes(np.arange(5), 2049)), "5 labels but"),
    "label out of range": ("test_labels", gz(idx_bytes(np.array([0, 10, 1]), 2049)), "label 10 is not in 0..9"),
    "zero examples": ("train_images", gz(idx_bytes(images(0), 2051)), "holds no images"),
    "zero test examples": ("test_images", gz(idx_bytes(images(0), 2051)), "holds no images"),
    "wrong image size": ("train_images", gz(idx_bytes(images(6, side=32), 2051)), "expected (28, 28)"),
}


def run_refused(argv, capsys, tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    assert run.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "runs").exists()
    return err


@pytest.mark.parametrize("breakage", list(IDX_BREAKAGES))
def test_broken_idx_file(breakage, capsys, tmp_path, monkeypatch):
    key, data, phrase = IDX_BREAKAGES[breakage]
    folder = tmp_path / "data"
    folder.mkdir()
    write_idx(folder, **{key: data})
    err = run_refused(["mnist1d-baselines", "--dataset", "mnist", "--data-dir", str(folder)],
                      capsys, tmp_path, monkeypatch)
    assert IDX[key] in err and phrase in err, err


def write_cifar(folder, broken: str | None = None, data: bytes = b"") -> None:
    rng = np.random.default_rng(0)
    for name in CIFAR:
        records = rng.integers(0, 256, (2, RECORD), dtype=np.uint8)
        records[:, 0] %= 10
        (folder / name).write_bytes(data if name == broken else records.tobytes())


def one_record(label: int) -> bytes:
    return bytes([label]) + bytes(RECORD - 1)


CIFAR_BREAKAGES = {
    "empty": ("data_batch_3.bin", b"", "0 bytes is not a positive multiple of the 3073-byte record"),
    "truncated record": ("test_batch.bin", one_record(1)[:-1], "3072 bytes is not a positive multiple"),
    "wrong image size (32x32x4)": ("data_batch_1.bin", bytes(1 + 4096), "4097 bytes"),
    "label out of range": ("data_batch_5.bin", one_record(1) + one_record(255), "label 255 is not in 0..9"),
}


@pytest.mark.parametrize("breakage", list(CIFAR_BREAKAGES))
def test_broken_cifar_file(breakage, capsys, tmp_path, monkeypatch):
    name, data, phrase = CIFAR_BREAKAGES[breakage]
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    write_cifar(folder, name, data)
    err = run_refused(["mnist1d-baselines", "--dataset", "cifar10", "--data-dir", str(tmp_path)],
                      capsys, tmp_path, monkeypatch)
    assert name in err and phrase in err, err


def test_a_valid_tiny_set_is_checked_against_the_batch_size(capsys, tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    write_idx(folder)
    err = run_refused(["mnist1d-baselines", "--dataset", "mnist", "--data-dir", str(folder)],
                      capsys, tmp_path, monkeypatch)
    assert "batch_size (100) exceeds the 6 training examples of mnist" in err


def test_check_data_loads_once_and_the_run_reuses_it(tmp_path):
    """The session keeps what check_data loaded: the run gets the same arrays, flattened or not."""
    import experiments.foundation.mnist1d_baselines as baselines

    write_idx(tmp_path)
    config = dataclasses.replace(baselines.PRESETS["quick"], dataset="mnist", batch_size=6)
    session = Session(None, data_dir=tmp_path)
    check_data(config, session)
    first = session.dataset("mnist")
    assert session.dataset("mnist").x_train is first.x_train
    flat = session.dataset("mnist", flatten=True)
    assert flat.x_train.shape == (6, 784) and np.shares_memory(flat.x_train, first.x_train)
    (tmp_path / IDX["train_images"]).write_bytes(b"gone")  # a cached set is not read again
    assert session.dataset("mnist").x_train is first.x_train
    with pytest.raises(DataError):
        Session(None, data_dir=tmp_path).dataset("mnist")
