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
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import environment, run_lock
from common.checkpoint import Checkpoints
from common.compile_time import compile_seconds
from common.config import UsageError
from common.data import FILE_DATASETS, DataError, Dataset, load
from common.experiment import ClaimOutcome, Results, evaluate_claims
from common import plots
from common.log import Heartbeat, MetricsLog, jsonable
from common.option_names import CLI, OptionNames
from common.parallel import is_writer
from common.report import run_report
from common.run_records import RUNS, SavedConfig, config_record, new_folder, read_config  # noqa: F401 (re-exported)


class Session:
    """What an experiment's `run` gets: data, the metrics log, checkpoints."""

    def __init__(self, folder: Path | None, *, resume: bool = False, data_dir: Path | None = None,
                 tensorboard: bool = False, figure_formats: tuple[str, ...] = ("png",)):
        self.folder = folder
        self.figure_formats = figure_formats
        self.resume = resume
        self.data_dir = data_dir
        self.metrics = MetricsLog(
            folder / "metrics.jsonl" if folder else None,
            tensorboard=folder / "tensorboard" if folder and tensorboard else None,
        )
        self._datasets: dict[str, Dataset] = {}
        self.slot = None  # a sweep point's place in a batch of points trained together (common.sweep_batch)

    def dataset(self, name: str, *, flatten: bool = False) -> Dataset:
        """The data set `name`, loaded once per session (check_data loads it before the run)."""
        if name not in self._datasets:
            self._datasets[name] = load(name, self.data_dir)
        data = self._datasets[name]
        if not flatten:
            return data
        return data._replace(x_train=data.x_train.reshape(len(data.x_train), -1),
                             x_test=data.x_test.reshape(len(data.x_test), -1))

    def checkpoints(self, name: str) -> Checkpoints | None:
        if self.folder is None:
            return None
        return Checkpoints(self.folder / "checkpoints" / name)

    def close(self) -> None:
        self.metrics.close()


@dataclass(frozen=True)
class Timing:
    """A run's wall seconds, and the seconds of them JAX spent tracing, lowering and
    compiling (`common.compile_time`; summed over threads, so it can exceed `seconds`)."""

    seconds: float
    compile_seconds: float


@dataclass(frozen=True)
class Executed:
    """What one execution gave: the results, the claim outcomes as results.json
    holds them, the run's seconds and compile seconds."""

    results: Results
    claims: list[dict]
    seconds: float
    compile_seconds: float


def execute(module, config, preset: str | None, session: Session, names: OptionNames = CLI) -> Executed:
    """Run `module` on `config`; with a session folder, lock it (common.run_lock: one
    writer per folder), check again under the lock that it may be written, write
    config.json and env.json first and the figures, report and results whole at the
    end. A data error (missing or corrupt files) becomes a UsageError and removes the
    folders this call created. `names` words the refusals for the caller (CLI or API)."""
    folder = session.folder if is_writer() else None  # only process 0 writes the folder
    started, compiled = time.perf_counter(), compile_seconds()
    held = None
    try:
        check_data(config, session, names)  # before any folder exists
        if folder is not None:
            held = run_lock.take(folder, names)
            check_out_folder(folder, resume=session.resume, names=names)  # another run may have ended meanwhile
            if session.resume:
                check_resumable(folder, config, names)
            start(folder, module, config, preset)
        results = module.run(config, session)
        timing = Timing(time.perf_counter() - started, compile_seconds() - compiled)
        outcomes = evaluate_claims(module.CLAIMS, results)
        session.metrics.hparams(config_dict(config), {
            "claims/reproduced": sum(o.verdict == "reproduced" for o in outcomes),
            "claims/not_reproduced": sum(o.verdict == "not reproduced" for o in outcomes),
            "seconds": timing.seconds})
        if folder is not None:
            finish(folder, module, config, results, outcomes, timing, session.figure_formats)
    except (DataError, UsageError) as error:
        if held is not None:
            run_lock.release(held, remove_created=True)
            held = None
        if isinstance(error, DataError):
            raise UsageError(str(error)) from None
        raise
    finally:
        if held is not None:
            run_lock.release(held)
        session.close()
    return Executed(results, claim_records(outcomes), timing.seconds, timing.compile_seconds)


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


def resumable_folder(experiment: str, config, root: Path = RUNS) -> Path | None:
    """The newest unfinished run of `experiment` with the same config (folders
    whose config.json cannot be read are passed over)."""
    base = root / experiment
    if not base.is_dir():
        return None
    for folder in sorted(base.iterdir(), reverse=True):
        if os.path.lexists(folder / "results.json"):
            continue
        saved = _read_config(folder)
        if saved is not None and saved.config == config_dict(config):
            return folder
    return None


def _read_config(folder: Path) -> SavedConfig | None:
    """The run's saved config.json (either layout), or None where there is none or it cannot be read."""
    try:
        return read_config(folder / "config.json")
    except UsageError:
        return None


def check_out_folder(out: Path, *, resume: bool, names: OptionNames = CLI) -> None:
    """The run folder must be one this process can create or write, and must not hold
    a run the command would overwrite; refused with one line. Nothing is made inside
    an existing folder: its refusals are checked first and its writability asked of
    the system (permissions, a read-only mount); only where the folder is still to
    be made is a probe folder made and removed in its nearest existing parent."""
    named = names.out_at(out)
    try:
        mode = os.stat(out).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as error:
        raise UsageError(f"{named}: cannot read {out} ({error.strerror})") from None
    if mode is None:
        if not resume:  # with resume nothing is made: check_resumable refuses a folder that is not there
            _check_creatable(out, named)
        return
    if not stat.S_ISDIR(mode):
        raise UsageError(f"{named} is a file, not a folder")
    if not os.access(out, os.R_OK | os.X_OK):
        raise UsageError(f"{named}: cannot read {out} (Permission denied)")
    if not resume and os.path.lexists(out / "results.json"):
        raise UsageError(f"{named} already holds a finished run; choose another folder")
    if not resume and os.path.lexists(out / "config.json"):
        raise UsageError(f"{named} holds an unfinished run: {names.add_resume} to continue it, "
                         "or choose another folder")
    _check_writable(out, named)


def _check_creatable(out: Path, named: str) -> None:
    """`out` does not exist yet: its nearest existing parent must be a folder this process can write in."""
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(f"{named}: {existing} is a file, so no folder can be made under it")
    try:  # os.access says yes to root even where nothing can be made (/proc): try it
        tempfile.TemporaryDirectory(dir=existing, prefix=".theory-lab-probe-").cleanup()
    except OSError as error:
        raise UsageError(f"{named}: cannot write in {existing} ({error.strerror or error})") from None


def _check_writable(folder: Path, named: str) -> None:
    """An existing folder: writable by its permissions and not on a read-only mount (asked, not tried)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{named}: cannot write in {folder} (Permission denied)")
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        raise UsageError(f"{named}: cannot write in {folder} (read-only file system)")


def check_resumable(folder: Path, config, names: OptionNames = CLI) -> None:
    """Resuming the run in `folder`: it must hold an unfinished run of this very config."""
    named = names.resume_at(folder)
    if os.path.lexists(folder / "results.json"):
        raise UsageError(f"{named}: the run is finished (results.json exists); nothing to resume")
    if not os.path.lexists(folder / "config.json"):
        raise UsageError(f"{named}: no run there (no config.json); {names.drop_resume} to start one")
    try:
        saved = read_config(folder / "config.json").config
    except UsageError as error:
        raise UsageError(f"{named}: {error}") from None
    asked = config_dict(config)
    differences = [
        f"{name}={_shown(saved.get(name, 'unset'))}, {names.asker} asks {_shown(asked.get(name, 'unset'))}"
        for name in sorted(set(saved) | set(asked)) if saved.get(name, "unset") != asked.get(name, "unset")
    ]
    if differences:
        raise UsageError(f"{named}: the run was started with {'; '.join(differences)} "
                         f"(resume with the same options, or {names.drop_resume} and {names.another_out})")


def nothing_to_resume(experiment: str, root: Path = RUNS) -> UsageError:
    """--resume without --out found no unfinished run of this config: what it looked for, and where."""
    return UsageError(f"--resume: no unfinished run of {experiment} with this config under {root / experiment} "
                      "to resume; drop --resume to start a new run, or name the run with --resume --out DIR")


def _shown(value) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def check_data(config, session: Session, names: OptionNames = CLI) -> None:
    """Before any run folder exists: --data-dir only where files are read, the data set
    loads (a broken file is one line), and the config's sizes fit its training split."""
    use = config.data_use() if hasattr(config, "data_use") else None
    if session.data_dir is not None and (use is None or use.dataset not in FILE_DATASETS):
        reads = "reads no data set" if use is None else f"reads {use.dataset}, which needs no files"
        raise UsageError(f"{names.data_dir} does nothing here: this config {reads} "
                         f"(only {', '.join(sorted(FILE_DATASETS))} are read from {names.data_dir})")
    if use is None:
        return
    try:
        examples = len(session.dataset(use.dataset).x_train)
    except DataError as error:
        raise UsageError(str(error)) from None
    for name, size in use.train_sizes.items():
        if size > examples:
            raise UsageError(f"invalid value: {name} ({size}) exceeds the {examples} training examples of "
                             f"{use.dataset}")


def start(folder: Path, module, config, preset: str | None) -> None:
    """config.json (the full config, its preset and the fields changed from it) and env.json."""
    if not is_writer():
        return
    folder.mkdir(parents=True, exist_ok=True)
    record = config_record(module.NAME, preset, overrides(config, module.PRESETS.get(preset)), config_dict(config))
    _write_atomic(folder / "config.json", json.dumps(record, indent=2))
    _write_atomic(folder / "env.json", json.dumps(environment.describe(), indent=2))


def finish(folder: Path, module, config, results: Results, outcomes: list[ClaimOutcome], timing: Timing,
           figure_formats: tuple[str, ...] = ("png",)) -> None:
    """Draw the figures (in `figure_formats`, PNG always) and write the report and
    results, whole or not at all: everything goes to a staging folder first,
    results.json moves in last."""
    if not is_writer():
        return
    staging = folder / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "figures").mkdir()
    with plots.formats(figure_formats):
        module.figures(results, staging / "figures")
    np.savez(staging / "results.npz", **{k: np.asarray(v) for k, v in results.arrays.items()})
    (staging / "report.md").write_text(run_report(
        module, config, results, outcomes, folder, timing,
        sorted(p.stem for p in (staging / "figures").glob("*.png")),
    ))
    payload = {
        "experiment": module.NAME,
        "seconds": timing.seconds,
        "compile_seconds": timing.compile_seconds,
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
