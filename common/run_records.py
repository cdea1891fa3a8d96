"""Reading run folders back: which experiment, preset and overrides a run had,
its results, and where the finished runs under a root are (docs/results.md
describes the files).

A finished run is a folder with results.json (written last); the experiment
is its "experiment" field, not the folder's name, so `--out` folders at any
depth are found.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path

from common.config import UsageError

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


def read_config(path: Path) -> SavedConfig:
    data = json.loads(Path(path).read_text())
    if isinstance(data.get("config"), dict) and "experiment" in data:
        return SavedConfig(data["config"], data.get("preset"), data.get("overrides"))
    return SavedConfig(data, None, None)  # the older layout: the config alone


def read_finished(folder: Path) -> FinishedRun:
    """The finished run in `folder`; a one-line UsageError when it is not one."""
    folder = Path(folder)
    results_path = folder / "results.json"
    if not results_path.is_file():
        raise UsageError(f"{folder} is not a finished run folder (no results.json)")
    try:
        results = json.loads(results_path.read_text())
        config = folder / "config.json"
        saved = read_config(config) if config.exists() else SavedConfig({}, None, None)
        env = json.loads((folder / "env.json").read_text()) if (folder / "env.json").exists() else {}
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as error:
        raise UsageError(f"{folder} is not a readable run folder ({error})") from None
    if not isinstance(results, dict) or not isinstance(results.get("experiment"), str):
        raise UsageError(f"{results_path} names no experiment: not a run's results")
    return FinishedRun(folder, results["experiment"], saved, results, env, results_path.stat().st_mtime_ns)


def finished_runs(root: Path) -> list[FinishedRun]:
    """Every finished run under `root`, at any depth (hidden folders such as a
    run's .staging are skipped)."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = []
    for path in sorted(root.rglob("results.json")):
        if any(part.startswith(".") for part in path.relative_to(root).parts[:-1]):
            continue
        try:
            runs.append(read_finished(path.parent))
        except UsageError:
            continue  # a results.json that is not a run's
    return runs


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
