"""The run folder: runs/<experiment>/<run-id>/ with config.json, env.json,
metrics.jsonl, checkpoints/, and, written whole at the end, figures/,
results.npz, report.md and results.json (the last file written: a folder with
results.json is a finished run). docs/results.md describes each file.

`execute` is the one path from a config to a finished run, shared by
`python run.py <experiment>` and `experiments.run`."""

import dataclasses
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import environment
from common.checkpoint import Checkpoints
from common.config import UsageError
from common.data import DataError, load
from common.experiment import ClaimOutcome, Results, evaluate_claims
from common.log import MetricsLog, jsonable
from common.parallel import is_writer
from common.report import run_report
from common.run_records import config_record, read_config

RUNS = Path("runs")


class Session:
    """What an experiment's `run` gets: data, the metrics log, checkpoints."""

    def __init__(self, folder: Path | None, *, resume: bool = False, data_dir: Path | None = None,
                 tensorboard: bool = False):
        self.folder = folder
        self.resume = resume
        self.data_dir = data_dir
        self.metrics = MetricsLog(
            folder / "metrics.jsonl" if folder else None,
            tensorboard=folder / "tensorboard" if folder and tensorboard else None,
        )

    def dataset(self, name: str, *, flatten: bool = False):
        return load(name, self.data_dir, flatten=flatten)

    def checkpoints(self, name: str) -> Checkpoints | None:
        if self.folder is None:
            return None
        return Checkpoints(self.folder / "checkpoints" / name)

    def close(self) -> None:
        self.metrics.close()


@dataclass(frozen=True)
class Executed:
    """What one execution gave: the results, the claim outcomes as results.json
    holds them, the run's seconds."""

    results: Results
    claims: list[dict]
    seconds: float


def execute(module, config, preset: str | None, session: Session) -> Executed:
    """Run `module` on `config`; with a session folder, write config.json and
    env.json first and the figures, report and results whole at the end.
    A data error (missing or corrupt files) becomes a UsageError and removes
    the folders this call created."""
    folder = session.folder
    created = [p for p in (folder, *folder.absolute().parents) if not p.exists()] if folder else []
    started = time.perf_counter()
    try:
        if folder is not None:
            start(folder, module, config, preset)
        results = module.run(config, session)
        seconds = time.perf_counter() - started
        outcomes = evaluate_claims(module.CLAIMS, results)
        if folder is not None:
            finish(folder, module, config, results, outcomes, seconds)
    except DataError as error:
        _remove_created(created)
        raise UsageError(str(error)) from None
    finally:
        session.close()
    return Executed(results, claim_records(outcomes), seconds)


def _remove_created(created: list[Path]) -> None:
    """Bad input found mid-way: remove the folders this invocation made."""
    if created:
        shutil.rmtree(created[0], ignore_errors=True)
        for parent in created[1:]:
            try:
                parent.rmdir()
            except OSError:
                break


def claim_records(outcomes: list[ClaimOutcome]) -> list[dict]:
    """The claim outcomes as results.json's "claims" holds them."""
    return [jsonable(dataclasses.asdict(o)) for o in outcomes]


def config_dict(config) -> dict:
    return jsonable(dataclasses.asdict(config))


def overrides(config, default) -> dict:
    """The fields where `config` differs from its preset `default`: what the
    command line (or experiments.run) changed."""
    if default is None:
        return {}
    given, preset = config_dict(config), config_dict(default)
    return {k: v for k, v in given.items() if preset.get(k) != v}


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
        if read_config(folder / "config.json").config == config_dict(config):
            return folder
    return None


def start(folder: Path, module, config, preset: str | None) -> None:
    """config.json (the full config, its preset and the fields changed from it) and env.json."""
    if not is_writer():
        return
    folder.mkdir(parents=True, exist_ok=True)
    record = config_record(module.NAME, preset, overrides(config, module.PRESETS.get(preset)), config_dict(config))
    _write_atomic(folder / "config.json", json.dumps(record, indent=2))
    _write_atomic(folder / "env.json", json.dumps(environment.describe(), indent=2))


def finish(folder: Path, module, config, results: Results, outcomes: list[ClaimOutcome], seconds: float) -> None:
    """Draw the figures and write the report and results, whole or not at all:
    everything goes to a staging folder first, results.json moves in last."""
    if not is_writer():
        return
    staging = folder / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "figures").mkdir()
    module.figures(results, staging / "figures")
    np.savez(staging / "results.npz", **{k: np.asarray(v) for k, v in results.arrays.items()})
    (staging / "report.md").write_text(run_report(
        module, config, results, outcomes, folder, seconds,
        sorted(p.stem for p in (staging / "figures").glob("*.png")),
    ))
    payload = {
        "experiment": module.NAME,
        "seconds": seconds,
        "claims": claim_records(outcomes),
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
