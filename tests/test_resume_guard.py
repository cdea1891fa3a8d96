"""--out and --resume: a run folder is made only where it can be, a finished or
unfinished run is never overwritten, and --resume continues only the very config
that started the run. Each refusal is one line and exit 2, with nothing changed."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

import experiments.foundation.mnist1d_baselines as baselines
import experiments.pruning.lottery as lottery
import run
from common import runs
from common.config import UsageError

ROOT = Path(__file__).resolve().parents[1]
QUICK = baselines.PRESETS["quick"]


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


def refused(argv, capsys, tmp_path, monkeypatch, expect: str) -> None:
    """run.main refuses with one line holding `expect` and leaves tmp_path as it was."""
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    assert run.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("error: ") and expect in err, err
    assert snapshot(tmp_path) == before


def unfinished_run(folder: Path, config=QUICK, module=baselines) -> Path:
    runs.start(folder, module, config, "quick")
    return folder


def finished_run(folder: Path, config=QUICK) -> Path:
    unfinished_run(folder, config)
    (folder / "results.json").write_text("{}")
    return folder


@pytest.mark.parametrize("make,out,expect", [
    (lambda t: (t / "afile").write_text("x"), "afile", "--out afile is a file, not a folder"),
    (lambda t: (t / "afile").write_text("x"), "afile/run/deeper", "afile is a file, so no folder can be made"),
    (lambda t: None, "/dev/null/run", "/dev/null is a file"),
    (lambda t: None, "/proc/theory-lab-run", "cannot write in /proc"),
    (lambda t: finished_run(t / "done"), "done", "--out done already holds a finished run"),
    (lambda t: unfinished_run(t / "half"), "half", "--out half holds an unfinished run: add --resume"),
])
def test_out_that_cannot_or_must_not_be_written(make, out, expect, capsys, tmp_path, monkeypatch):
    make(tmp_path)
    refused(["mnist1d-baselines", "--out", out], capsys, tmp_path, monkeypatch, expect)


def test_out_in_a_read_only_place_is_probed_by_writing(tmp_path, monkeypatch):
    """Root passes os.access everywhere: the check must try a write."""
    def no_write(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(runs.tempfile, "TemporaryDirectory", no_write)
    with pytest.raises(UsageError, match=r"cannot write in .* \(Permission denied\)$"):
        runs.check_out_folder(tmp_path / "new", resume=False)


@pytest.mark.parametrize("make,expect", [
    (lambda f: None, "no run there (no config.json); drop --resume"),
    (lambda f: f.mkdir(), "no run there"),
    (lambda f: finished_run(f), "the run is finished (results.json exists); nothing to resume"),
    (lambda f: (f.mkdir(), (f / "config.json").write_text("{not json")), "r/config.json is not valid JSON"),
    (lambda f: (f.mkdir(), (f / "config.json").write_text("[1]")), "r/config.json: the file is a list, not a JSON"),
])
def test_resume_needs_an_unfinished_run(make, expect, capsys, tmp_path, monkeypatch):
    make(tmp_path / "r")
    refused(["mnist1d-baselines", "--resume", "--out", "r"], capsys, tmp_path, monkeypatch, expect)


@pytest.mark.parametrize("module,started,argv,expect", [
    (baselines, QUICK, ["--learning-rate", "0.02"], "started with learning_rate=0.01, this command asks 0.02"),
    (baselines, QUICK, ["--preset", "paper"], "steps=2000, this command asks 6000"),
    (baselines, QUICK, ["--seeds", "2", "--batch-size", "50"],
     "batch_size=100, this command asks 50; seeds=5, this command asks 2"),
    (lottery, lottery.PRESETS["quick"], ["--mlp-widths", "50", "50"], "mlp_widths=100 100, this command asks 50 50"),
])
def test_resume_with_another_config_names_the_fields(module, started, argv, expect, capsys, tmp_path,
                                                     monkeypatch):
    unfinished_run(tmp_path / "r", started, module)
    refused([module.NAME, "--resume", "--out", "r", *argv], capsys, tmp_path, monkeypatch, expect)


def test_resume_with_the_same_config_is_accepted(tmp_path):
    folder = unfinished_run(tmp_path / "r")
    runs.check_resumable(folder, dataclasses.replace(QUICK))
    runs.check_out_folder(folder, resume=True)
    saved = json.loads((folder / "config.json").read_text())
    assert saved["config"] == runs.config_dict(QUICK) and saved["preset"] == "quick"


def test_resume_without_out_skips_an_unreadable_run(tmp_path, monkeypatch):
    """--resume alone looks for a matching unfinished run; a broken config.json is passed over."""
    broken = tmp_path / "runs" / "selu-depth" / "20260101-000000"
    broken.mkdir(parents=True)
    (broken / "config.json").write_text("{not json")
    monkeypatch.chdir(tmp_path)
    assert runs.resumable_folder("selu-depth", QUICK) is None


@pytest.mark.slow  # a subprocess: imports jax afresh
def test_subprocess_resume_mismatch_one_line(tmp_path):
    unfinished_run(tmp_path / "r")
    before = snapshot(tmp_path)
    out = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "mnist1d-baselines", "--resume", "--out", "r", "--chunk", "125"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        "error: --resume --out r: the run was started with chunk=250, this command asks 125 "
        "(resume with the same options, or drop --resume and choose another --out)"]
    assert snapshot(tmp_path) == before
