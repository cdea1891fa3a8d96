"""The Python API: run an experiment, load a finished run folder back, redraw
its figures, as `python run.py` does.

    import experiments
    run = experiments.run("ad-graph", max_depth=4, out="runs/mine")
    run.claims[0]["verdict"], run.results.scalars["layered/jvp_max_gap"]
    again = experiments.load("runs/mine")   # the same Run, read from the folder

`experiments.run` and `python run.py <name>` share `common.runs.execute`.
"""

import importlib.util
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import runs
from common.config import SWEEP_MODES, UsageError, config_from_dict, with_overrides
from common.environment import enable_compilation_cache
from common.experiment import Results
from common.option_names import API
from common.run_files import one_line, present, read_arrays
from common.run_records import read_finished
from common.xla_flags import set_compile_flags

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


@dataclass(frozen=True)
class Sweep:
    """A sweep (`run(..., sweep={...})`): its axes (field -> values), one Run per point
    (read back from its folder, in grid order: the first field slowest), and the sweep
    folder holding sweep.json, sweep.md, figures/ and points/."""

    experiment: str
    preset: str
    axes: dict
    runs: list[Run]
    folder: Path


def run(name: str, preset: str = "quick", out: str | Path | None = None, *, data_dir: str | Path | None = None,
        resume: bool = False, compilation_cache: bool = True, figure_formats: tuple[str, ...] = ("png",),
        sweep: dict | None = None, sweep_mode: str = "members", **overrides) -> Run | Sweep:
    """Run experiment `name` from `preset` with config fields `overrides`.
    With `out`, the run folder is written as `python run.py name --out OUT`
    writes it; with None, nothing is written. `resume=True` continues the
    unfinished run at `out` started with the same config (`--resume --out`).
    `data_dir` is the CLI's --data-dir; `figure_formats` its --figure-format
    (e.g. ("png", "pdf"): PNG always). `sweep={"learning_rate": [1e-3, 1e-2]}` (the
    CLI's --sweep; needs `out`) runs every point of the grid of those fields on
    top of `overrides` and returns a Sweep (common/sweep.py); `sweep_mode` is the CLI's
    --sweep-mode ("members": points that differ only in the experiment's member fields train
    as one program's members; "runs": a program per point). `compilation_cache` turns JAX's
    persistent compilation cache on, as run.py does (False: off). Bad input
    raises UsageError (a ValueError), worded for Python callers."""
    module = _module(name)
    config = with_overrides(module, preset, overrides)
    figure_formats = _figure_formats(figure_formats)
    folder = Path(out) if out is not None else None
    if sweep_mode not in SWEEP_MODES:
        raise UsageError(f"sweep_mode={sweep_mode!r}: choose from {', '.join(map(repr, SWEEP_MODES))}")
    if sweep is None and sweep_mode != "members":
        raise UsageError("sweep_mode= says how a sweep's points run: add sweep={field: [values]}")
    if sweep is not None:
        return _sweep(module, preset, config, sweep, folder, resume, compilation_cache,
                      {"data_dir": Path(data_dir) if data_dir is not None else None,
                       "figure_formats": figure_formats}, sweep_mode == "members")
    if resume and folder is None:
        raise UsageError("resume=True needs out=, the folder of the unfinished run to continue")
    if folder is not None:
        runs.check_out_folder(folder, resume=resume, names=API)
        if resume:
            runs.check_resumable(folder, config, API)
    _use_compilation_cache(compilation_cache)
    session = runs.Session(folder, resume=resume, data_dir=Path(data_dir) if data_dir is not None else None,
                           figure_formats=figure_formats)
    executed = runs.execute(module, config, preset, session, API)
    return Run(module.NAME, preset, runs.overrides(config, module.PRESETS[preset]), config, executed.results,
               executed.claims, folder, executed.seconds)


def _sweep(module, preset: str, config, grid: dict, folder: Path | None, resume: bool, compilation_cache: bool,
           session_options: dict, together: bool) -> Sweep:
    from common import sweep

    if not isinstance(grid, dict) or not grid:
        raise UsageError(f"sweep= takes a dict of field -> list of values, not {grid!r}")
    if folder is None:
        raise UsageError("sweep= needs out=, the folder that holds every point")
    axes = [sweep.axis(field, values, type(config)) for field, values in grid.items()]
    _use_compilation_cache(compilation_cache)
    done = sweep.run_sweep(module, preset, axes, config, folder, resume=resume, names=API,
                           session_options=session_options, together=together)
    return Sweep(module.NAME, preset, {a.field: list(a.values) for a in axes},
                 [load(result.point.folder) for result in done], folder)


def _use_compilation_cache(on: bool) -> None:
    """The persistent compilation cache in ~/.cache/theory-lab, as run.py sets it up, or off."""
    import jax

    if on:
        set_compile_flags()  # as run.py does (no effect once this process's JAX backend has started)
        enable_compilation_cache()
    jax.config.update("jax_enable_compilation_cache", on)


def load(folder: str | Path) -> Run:
    """A finished run folder back as a Run: config.json into the experiment's
    Config, results.json and results.npz into Results. Every file is checked
    (common.run_records); a folder that is not a readable finished run raises
    UsageError naming the file and what is wrong."""
    finished = read_finished(Path(folder))
    module = _module(finished.experiment)
    try:
        config = config_from_dict(module.Config, finished.saved.config)
    except (TypeError, ValueError) as error:
        raise UsageError(f"{finished.folder / 'config.json'} does not fit {module.NAME}'s Config: "
                         f"{one_line(str(error))}") from None
    stored = finished.results
    npz = finished.folder / "results.npz"
    results = Results(
        tables=stored.get("tables", {}),
        scalars={k: math.nan if v is None else v for k, v in stored.get("scalars", {}).items()},
        arrays=read_arrays(npz) if present(npz) else {},
        notes=stored.get("notes", []),
    )
    return Run(module.NAME, finished.preset, finished.overrides, config, results, stored.get("claims", []),
               finished.folder, stored.get("seconds"))


def _figure_formats(chosen) -> tuple[str, ...]:
    """The API's `figure_formats` (a tuple of names, or one comma-separated string), checked."""
    import argparse

    from common.config import figure_formats

    text = chosen if isinstance(chosen, str) else ",".join(map(str, chosen))
    try:
        return figure_formats(text)
    except argparse.ArgumentTypeError as error:
        raise UsageError(f"figure_formats={chosen!r}: {error}") from None


def replot(folder: str | Path, figure_formats: tuple[str, ...] = ("png",)) -> list[Path]:
    """Redraw a finished run's figures/ from its results.npz, without training,
    in `figure_formats` (PNG always; e.g. ("png", "svg")).
    The figures are drawn into a temporary folder outside the run first, so arrays
    that do not fit them are a UsageError that changes nothing; the new figures/
    then replaces the old one (a symlinked figures/ is replaced by a real folder,
    its target untouched)."""
    folder = Path(folder)
    figure_formats = _figure_formats(figure_formats)
    finished = load(folder)
    if not present(folder / "results.npz"):
        raise UsageError(f"{folder} has no figure data (results.npz)")
    figures = folder / "figures"
    if os.path.lexists(figures) and not (figures.is_symlink() or figures.is_dir()):
        raise UsageError(f"{figures} is a file, not a figures folder: move it away to replot")
    try:  # drawn outside the run first: a refusal touches nothing in it
        drawn = Path(tempfile.mkdtemp(prefix="theory-lab-replot-"))
    except OSError as error:
        raise UsageError(f"replot: cannot make a temporary folder ({error.strerror or error})") from None
    try:
        _draw(finished, drawn, figure_formats)
        try:
            staging = Path(tempfile.mkdtemp(dir=folder, prefix=".replot-"))
        except OSError as error:
            raise UsageError(f"replot: cannot write in {folder} ({error.strerror or error})") from None
        try:
            shutil.copytree(drawn, staging, dirs_exist_ok=True)
            _swap_in(staging, figures)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        shutil.rmtree(drawn, ignore_errors=True)
    return sorted(p for p in figures.iterdir() if p.suffix.lstrip(".") in figure_formats)


def _draw(finished: Run, directory: Path, figure_formats: tuple[str, ...]) -> None:
    """The module's figures from the run's arrays into `directory`; any failure of the
    figure code on these arrays is a UsageError naming the run and the problem."""
    from common import plots

    try:
        with plots.formats(figure_formats):
            _module(finished.experiment).figures(finished.results, directory)
    except Exception as error:  # the figure code on arrays it cannot draw: any exception
        import matplotlib.pyplot as plt

        plt.close("all")  # the figure it was drawing
        problem = (f"lacks the figure data {error}" if isinstance(error, KeyError) else
                   f"does not fit {finished.experiment}'s figures ({type(error).__name__}: {one_line(str(error))})")
        raise UsageError(f"{finished.folder}/results.npz {problem}") from None


def _swap_in(staging: Path, figures: Path) -> None:
    """`staging` becomes `figures`: an old folder is moved aside (and back should the
    swap fail) and removed after; a symlink is unlinked, never followed."""
    old = staging.with_name(staging.name + "-old")
    moved = False
    try:
        if figures.is_symlink():
            figures.unlink()
        elif figures.exists():
            os.rename(figures, old)
            moved = True
        os.rename(staging, figures)
    except OSError as error:
        if moved and not os.path.lexists(figures):
            os.rename(old, figures)
        raise UsageError(f"replot: cannot replace {figures} ({error.strerror or error})") from None
    shutil.rmtree(old, ignore_errors=True)


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
