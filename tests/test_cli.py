"""run.py: bad input gets one line and exit code 2, with no run folder left."""

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import run

ROOT = Path(__file__).resolve().parents[1]


def check_usage_error(argv, capsys, tmp_path, monkeypatch, expect: str):
    monkeypatch.chdir(tmp_path)
    assert run.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and expect in err, err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("argv,expect", [
    (["mnist1d-baseline"], "did you mean mnist1d-baselines"),
    (["nonsense-experiment"], "unknown command or experiment 'nonsense-experiment'"),
    (["mnist1d-baselines", "--widht", "3"], "--widht"),
    (["mnist1d-baselines", "--mlp-widht", "3"], "did you mean --mlp-width"),
    (["mnist1d-baselines", "--lr", "0.1"], "did you mean --learning-rate?"),
    (["mnist1d-baselines", "--steps", "abc"], "--steps"),
    (["mnist1d-baselines", "--seeds", "0"], "seeds must be at least 1"),
    (["mnist1d-baselines", "--mlp-width", "-5"], "mlp_width must be at least 1"),
    (["mnist1d-baselines", "--learning-rate", "-0.1"], "learning_rate must be positive"),
    (["mnist1d-baselines", "--preset", "huge"], "invalid choice"),
    (["mnist1d-baselines", "--dataset", "imagenet"], "imagenet"),
    (["all", "--seeds", "0"], "must be at least 1"),
    (["all", "--resume"], "unrecognized arguments: --resume"),
    (["all", "--jobs", "0"], "must be at least 1"),
    (["report", "--fast"], "unrecognized arguments: --fast"),
    (["list", "--long"], "unrecognized arguments: --long"),
])
def test_bad_arguments(argv, expect, capsys, tmp_path, monkeypatch):
    check_usage_error(argv, capsys, tmp_path, monkeypatch, expect)


def test_data_dir_without_the_files(capsys, tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    check_usage_error(["mnist1d-baselines", "--dataset", "mnist", "--data-dir", str(tmp_path / "empty")],
                      capsys, tmp_path, monkeypatch, "train-images-idx3-ubyte.gz")


def test_corrupt_data_file(capsys, tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    header = struct.pack(">IIII", 2051, 100, 28, 28)
    for name, magic in [("train-images-idx3-ubyte.gz", 2051), ("t10k-images-idx3-ubyte.gz", 2051)]:
        with gzip.open(data / name, "wb") as f:  # promises 100 images, holds 3
            f.write(header + bytes(3 * 28 * 28))
    for name in ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        with gzip.open(data / name, "wb") as f:
            f.write(struct.pack(">II", 2049, 100) + bytes(100))
    check_usage_error(["mnist1d-baselines", "--dataset", "mnist", "--data-dir", str(data)],
                      capsys, tmp_path, monkeypatch, "images-idx3-ubyte.gz")


def test_subprocess_exit_code_and_no_traceback(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "run.py"), "mnist1d-baselines", "--seeds", "-1"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == ["error: invalid value: seeds must be at least 1 (got -1)"]
    assert not (tmp_path / "runs").exists()


def test_list_names_every_experiment_with_its_paper(capsys):
    assert run.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mnist1d-baselines" in out and "Greydanus" in out and ("s cold (" in out or "not timed yet" in out)


def test_help_lists_the_config_fields(capsys):
    assert run.main(["mnist1d-baselines", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--learning-rate" in out and "Adam step size" in out and "--resume" in out


@pytest.mark.parametrize("argv, flags", [
    (["selu-depth", "--out", "runs/a"], "--resume --out runs/a"),
    (["selu-depth", "--out=runs/a", "--seeds", "2"], "--resume --out runs/a"),
    (["selu-depth", "--seeds", "2"], "--resume"),
])
def test_ctrl_c_outside_training_names_the_resume_flags(argv, flags, monkeypatch, capsys):
    def interrupted(_argv):
        raise KeyboardInterrupt
    monkeypatch.setattr(run, "dispatch", interrupted)
    assert run.main(argv) == 130
    assert f"rerun the same command with {flags} to continue" in capsys.readouterr().err


def test_a_python_without_jax_is_one_line_before_anything_runs(tmp_path, monkeypatch, capsys):
    """`all` (which imports no JAX itself) and an experiment refuse a Python that lacks JAX with one
    line naming it and the set-up command, instead of seventeen failed experiments or a traceback."""
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real_find_spec(name, *a))
    monkeypatch.chdir(tmp_path)
    for argv in (["all"], ["ad-graph"]):
        assert run.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "has no jax" in err and "pip install" in err
    assert not (tmp_path / "runs").exists()
