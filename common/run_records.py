"""Reading run folders back: which experiment, preset and overrides a run had,
its results, and where the finished runs under a root are (docs/results.md
describes the files). Every tool that reads a run folder (report, compare,
replot, experiments.load, --resume) reads it here: each file is checked
(common.run_files, common.run_shapes) and any problem is one UsageError.

A finished run is a folder with results.json (written last); the experiment
is its "experiment" field, not the folder's name, so `--out` folders at any
depth are found.
"""

import functools
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from common.config import UsageError
from common.run_files import os_problem, present, read_json
from common.run_shapes import check_config, check_env, check_results

RUNS = Path("runs")


@dataclass(frozen=True)
class SavedConfig:
    """config.json: the full config, and the preset and overrides it came from
    (None for runs written before these were recorded)."""

    config: dict
    preset: str | None
    overrides: dict | None


@dataclass(frozen=True)
class FinishedRun:
    folder: Path
    experiment: str
    saved: SavedConfig
    results: dict  # results.json
    env: dict  # env.json ({} when absent)
    finished_ns: int  # when results.json was written

    @property
    def preset(self) -> str | None:
        return self.saved.preset

    @property
    def overrides(self) -> dict | None:
        return self.saved.overrides


def config_record(experiment: str, preset: str | None, overrides: dict, config: dict) -> dict:
    """What config.json holds."""
    return {"experiment": experiment, "preset": preset, "overrides": overrides, "config": config}


def read_config(path: Path, experiment: str | None = None) -> SavedConfig:
    """config.json (either layout), checked; a UsageError when it is missing, unreadable,
    not of its documented shape, or (given `experiment`) names another experiment."""
    path = Path(path)
    if not present(path):
        raise UsageError(f"{path} is missing: a run folder needs the config it ran")
    data = read_json(path)
    check_config(path, data)
    if not (isinstance(data.get("config"), dict) and "experiment" in data):
        return SavedConfig(data, None, None)  # the older layout: the config alone
    if experiment is not None and data["experiment"] != experiment:
        raise UsageError(f"{path} is a config of {data['experiment']}, but results.json says {experiment}")
    return SavedConfig(data["config"], data.get("preset"), data.get("overrides"))


def read_finished(folder: Path) -> FinishedRun:
    """The finished run in `folder`, every file checked (docs/results.md): a one-line
    UsageError naming the file and what is wrong when it is not one."""
    folder = Path(folder)
    _require_folder(folder)
    results_path = folder / "results.json"
    if not present(results_path):
        raise UsageError(f"{folder} is not a finished run folder (no results.json)")
    results = read_json(results_path)
    check_results(results_path, results)
    experiment = results["experiment"]
    if experiment not in known_experiments():
        raise UsageError(f"{results_path} names experiment '{experiment}', which this code does not have "
                         "(python run.py list shows the experiments)")
    saved = read_config(folder / "config.json", experiment)
    env_path = folder / "env.json"
    env = read_json(env_path) if present(env_path) else {}
    check_env(env_path, env)
    try:
        finished_ns = os.stat(results_path).st_mtime_ns
    except OSError as error:
        raise os_problem(results_path, error) from None
    return FinishedRun(folder, experiment, saved, results, env, finished_ns)


def _require_folder(folder: Path) -> None:
    """`folder` must be a folder this process can list and read."""
    try:
        mode = os.stat(folder).st_mode
    except FileNotFoundError:
        raise UsageError(f"{folder} does not exist") from None
    except OSError as error:
        raise os_problem(folder, error) from None
    if not stat.S_ISDIR(mode):
        raise UsageError(f"{folder} is not a folder, so not a run folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise UsageError(f"cannot read {folder}: Permission denied")


@functools.cache
def known_experiments() -> frozenset[str]:
    """The experiments this code has (experiments/catalog.json: no experiment module is imported)."""
    from experiments import catalog

    return frozenset(catalog.entries())


@dataclass(frozen=True)
class Skipped:
    """A folder under a root that is not read as a finished run, and why (one line naming the file)."""

    folder: Path
    reason: str


@dataclass(frozen=True)
class Scan:
    """What is under a root: its finished, readable runs; the run folders that cannot
    be read (and why); the unfinished runs (config.json, no results.json)."""

    runs: list[FinishedRun]
    skipped: list[Skipped]
    unfinished: list[Path]


def scan(root: Path) -> Scan:
    """Every run folder under `root`, at any depth, by its results.json or config.json
    (hidden folders such as a run's .staging are passed over, symlinked folders are not
    followed, a run's own subfolders are not searched)."""
    root = Path(root)
    runs, skipped, unfinished = [], [], []

    def unreadable(error: OSError) -> None:
        where = Path(error.filename) if error.filename else root
        skipped.append(Skipped(where, f"cannot read {where}: {error.strerror or error}"))

    for here, folders, files in os.walk(root, onerror=unreadable):
        names = {*folders, *files}
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        if "results.json" in names:
            try:
                runs.append(read_finished(Path(here)))
            except UsageError as error:
                skipped.append(Skipped(Path(here), str(error)))
            folders.clear()
        elif "config.json" in names:
            unfinished.append(Path(here))
            folders.clear()
    return Scan(runs, sorted(skipped, key=lambda s: str(s.folder)), sorted(unfinished))


def format_overrides(overrides: dict | None) -> str:
    if overrides is None:
        return "not recorded"
    return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "none"


def new_folder(experiment: str, root: Path = RUNS) -> Path:
    """A fresh run folder's path, runs/<experiment>/<timestamp>[-k] (not created)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = root / experiment / stamp
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = root / experiment / f"{stamp}-{suffix}"
    return folder
