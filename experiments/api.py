"""The Python API: run an experiment, load a finished run folder back, redraw
its figures, as `python run.py` does.

    import experiments
    run = experiments.run("ad-graph", max_depth=4, out="runs/mine")
    run.claims[0]["verdict"], run.results.scalars["layered/max_relative_gap"]
    again = experiments.load("runs/mine")   # the same Run, read from the folder

`experiments.run` and `python run.py <name>` share `common.runs.execute`.
"""

import importlib.util
import math
import os
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common import runs
from common.config import UsageError, config_from_dict, require_fresh_out, with_overrides
from common.experiment import Results
from common.run_records import read_finished

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    """One run of an experiment: its config, results and claim outcomes (dicts
    with statement, paper, measured, value, verdict, as results.json holds them),
    and its folder (None when run without one)."""

    experiment: str
    preset: str | None
    overrides: dict | None
    config: Any
    results: Results
    claims: list[dict]
    folder: Path | None
    seconds: float | None


def run(name: str, preset: str = "quick", out: str | Path | None = None, *, data_dir: str | Path | None = None,
        **overrides) -> Run:
    """Run experiment `name` from `preset` with config fields `overrides`.
    With `out`, the run folder is written as `python run.py name --out OUT`
    writes it; with None, nothing is written. `data_dir` is the CLI's
    --data-dir. Bad input raises UsageError."""
    module = _module(name)
    config = with_overrides(module, preset, overrides)
    folder = Path(out) if out is not None else None
    require_fresh_out(folder)
    session = runs.Session(folder, data_dir=Path(data_dir) if data_dir is not None else None)
    executed = runs.execute(module, config, preset, session)
    return Run(module.NAME, preset, runs.overrides(config, module.PRESETS[preset]), config, executed.results,
               executed.claims, folder, executed.seconds)


def load(folder: str | Path) -> Run:
    """A finished run folder back as a Run: config.json into the experiment's
    Config, results.json and results.npz into Results."""
    finished = read_finished(Path(folder))
    module = _module(finished.experiment)
    try:
        config = config_from_dict(module.Config, finished.saved.config)
    except (TypeError, ValueError) as error:
        raise UsageError(f"{folder}/config.json does not fit {module.NAME}'s Config: {error}") from None
    stored = finished.results
    results = Results(
        tables=stored.get("tables", {}),
        scalars={k: math.nan if v is None else v for k, v in stored.get("scalars", {}).items()},
        arrays=_arrays(finished.folder / "results.npz"),
        notes=stored.get("notes", []),
    )
    return Run(module.NAME, finished.preset, finished.overrides, config, results, stored.get("claims", []),
               finished.folder, stored.get("seconds"))


def replot(folder: str | Path) -> list[Path]:
    """Redraw a finished run's figures/ from its results.npz, without training."""
    folder = Path(folder)
    finished = load(folder)
    if not (folder / "results.npz").exists():
        raise UsageError(f"{folder} has no figure data (results.npz)")
    staging = folder / ".replot"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _module(finished.experiment).figures(finished.results, staging)
    except KeyError as error:
        shutil.rmtree(staging)
        raise UsageError(f"{folder}/results.npz lacks the figure data {error}") from None
    if (folder / "figures").exists():
        shutil.rmtree(folder / "figures")
    os.replace(staging, folder / "figures")
    return sorted((folder / "figures").glob("*.png"))


def main(name: str) -> None:
    """`python -m experiments.<module> [options]` is `python run.py <name> [options]`:
    each experiment module ends with `if __name__ == "__main__": main(NAME)`."""
    spec = importlib.util.spec_from_file_location("run", ROOT / "run.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    sys.exit(cli.main([name, *sys.argv[1:]]))


def _module(name: str):
    import experiments

    module = experiments.find(name)
    if module is None:
        raise UsageError(f"unknown experiment '{name}' (experiments.all_experiments() lists them)")
    return module


def _arrays(path: Path) -> dict[str, np.ndarray]:
    """results.npz's arrays (plain numbers: no pickle is loaded); {} when absent."""
    if not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise UsageError(f"{path} is not readable array data ({error})") from None
