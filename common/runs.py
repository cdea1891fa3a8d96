"""The run folder: runs/<experiment>/<run-id>/ with config.json, env.json,
metrics.jsonl, checkpoints/, and, written whole at the end, figures/,
results.npz, report.md and results.json (the last file written: a folder with
results.json is a finished run)."""

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from common import environment
from common.checkpoint import Checkpoints
from common.data import load
from common.experiment import Results, evaluate_claims
from common.log import MetricsLog, jsonable
from common.parallel import is_writer
from common.report import run_report

RUNS = Path("runs")


class Session:
    """What an experiment's `run` gets: data, the metrics log, checkpoints."""

    def __init__(self, folder: Path | None, *, resume: bool = False, data_dir: Path | None = None):
        self.folder = folder
        self.resume = resume
        self.data_dir = data_dir
        self.metrics = MetricsLog(folder / "metrics.jsonl" if folder else None)

    def dataset(self, name: str, *, flatten: bool = False):
        return load(name, self.data_dir, flatten=flatten)

    def checkpoints(self, name: str) -> Checkpoints | None:
        if self.folder is None:
            return None
        return Checkpoints(self.folder / "checkpoints" / name)


def config_dict(config) -> dict:
    return jsonable(dataclasses.asdict(config))


def new_folder(experiment: str, root: Path = RUNS) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = root / experiment / stamp
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = root / experiment / f"{stamp}-{suffix}"
    return folder


def resumable_folder(experiment: str, config, root: Path = RUNS) -> Path | None:
    """The newest unfinished run of `experiment` with the same config."""
    base = root / experiment
    if not base.is_dir():
        return None
    for folder in sorted(base.iterdir(), reverse=True):
        if (folder / "results.json").exists() or not (folder / "config.json").exists():
            continue
        if json.loads((folder / "config.json").read_text()) == config_dict(config):
            return folder
    return None


def start(folder: Path, config) -> None:
    if not is_writer():
        return
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(folder / "config.json", json.dumps(config_dict(config), indent=2))
    _write_atomic(folder / "env.json", json.dumps(environment.describe(), indent=2))


def finish(folder: Path, module, config, results: Results, seconds: float) -> None:
    """Draw the figures and write the report and results, whole or not at all:
    everything goes to a staging folder first, results.json moves in last."""
    if not is_writer():
        return
    staging = folder / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "figures").mkdir()
    module.figures(results, staging / "figures")
    outcomes = evaluate_claims(module.CLAIMS, results)
    np.savez(staging / "results.npz", **{k: np.asarray(v) for k, v in results.arrays.items()})
    (staging / "report.md").write_text(run_report(
        module, config, results, outcomes, folder, seconds,
        sorted(p.stem for p in (staging / "figures").glob("*.png")),
    ))
    payload = {
        "experiment": module.NAME,
        "seconds": seconds,
        "claims": [dataclasses.asdict(o) for o in outcomes],
        "scalars": results.scalars,
        "tables": results.tables,
        "notes": results.notes,
    }
    (staging / "results.json").write_text(json.dumps(jsonable(payload), indent=2))
    if (folder / "figures").exists():
        shutil.rmtree(folder / "figures")
    os.replace(staging / "figures", folder / "figures")
    for name in ("results.npz", "report.md", "results.json"):
        os.replace(staging / name, folder / name)
    staging.rmdir()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
