"""The Python API: experiments.run runs as the CLI does (same validation, same
run folder) and experiments.load reads the folder back into the same Run."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import experiments
from common.experiment import VERDICTS
from common.config import UsageError

ROOT = Path(__file__).resolve().parents[1]
TINY = {"max_depth": 3, "widths": (2,), "input_counts": (2, 3)}  # ad-graph in a few seconds


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api") / "runs" / "mine"
    return experiments.run("ad-graph", out=folder, **TINY), folder


def test_run_writes_the_cli_folder_and_returns_the_run(finished):
    run, folder = finished
    assert run.folder == folder and run.experiment == "ad-graph" and run.preset == "quick"
    assert run.config.max_depth == 3 and run.config.widths == (2,)
    assert run.overrides == {"max_depth": 3, "widths": [2], "input_counts": [2, 3]}
    verdicts = [c["verdict"] for c in run.claims]
    assert len(verdicts) == len(experiments.find("ad-graph").CLAIMS) and set(verdicts) <= set(VERDICTS)
    assert verdicts[:3] == ["reproduced"] * 3  # the exact ones (e = 6, its derivatives, the three accumulations)
    assert run.results.scalars["notes/forward/error"] == 0.0  # e = 6 and its derivatives, exactly
    for name in ("config.json", "env.json", "results.json", "results.npz", "report.md",
                 "figures/paths_and_passes.png"):
        assert (folder / name).is_file(), name
    saved = json.loads((folder / "config.json").read_text())
    assert saved["preset"] == "quick" and saved["overrides"] == run.overrides
    assert saved["config"]["widths"] == [2]


def test_load_gives_back_the_same_run(finished):
    run, folder = finished
    loaded = experiments.load(folder)
    assert loaded.config == run.config  # tuples again, from config.json's lists
    assert loaded.claims == run.claims and loaded.overrides == run.overrides and loaded.preset == "quick"
    assert loaded.results.scalars == run.results.scalars and loaded.results.tables == run.results.tables
    assert sorted(loaded.results.arrays) == sorted(run.results.arrays)
    for key, values in run.results.arrays.items():
        np.testing.assert_array_equal(loaded.results.arrays[key], values)


def test_readme_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    readme = (ROOT / "README.md").read_text()
    example = readme.split("```python\nimport experiments\n")[1].split("```")[0]
    assert example.startswith('run = experiments.run("ad-graph", preset="quick", out="runs/mine", max_depth=3, '
                              'widths=(2,))\n')  # the call below, as the README shows it
    run = experiments.run("ad-graph", preset="quick", out="runs/mine", max_depth=3, widths=(2,))
    print([c["verdict"] for c in run.claims], run.results.scalars["layered/jvp_max_gap"])
    again = experiments.load("runs/mine")
    assert again.config == run.config
    assert (tmp_path / "runs" / "mine" / "results.json").is_file()


def test_without_out_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = experiments.run("ad-graph", **TINY)
    assert run.folder is None and run.claims and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs,expect", [
    ({"name": "ad-grahp"}, "unknown experiment 'ad-grahp'"),
    ({"preset": "huge"}, "has no preset 'huge'"),
    ({"max_dept": 3}, "did you mean max_depth"),
    ({"max_depth": "3"}, "invalid value for max_depth: '3' is not int"),
    ({"widths": 3}, "invalid value for widths"),
    ({"max_depth": 1}, "invalid value: max_depth must be at least 2"),
])
def test_bad_input_is_one_line(kwargs, expect, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    kwargs = {"name": "ad-graph", "out": "runs/bad", **kwargs}
    with pytest.raises(UsageError) as error:
        experiments.run(kwargs.pop("name"), **kwargs)
    assert expect in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "runs").exists()


def test_load_of_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(UsageError, match="not a finished run folder"):
        experiments.load(tmp_path)


def test_python_m_module_is_run_py(tmp_path):
    out = subprocess.run([sys.executable, "-m", "experiments.autodiff.graph", "--max-depth", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == ["error: invalid value: max_depth must be at least 2 to fit FLOPs "
                                               "against edges (got 1)"]
