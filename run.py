"""theory-lab: run the experiments that reproduce the notes' papers.

    python run.py list [--presets]           every experiment, its paper, its quick-preset time
                                             (and what each other preset changes)
    python run.py <experiment> [options]     one experiment (--help for its options)
    python run.py all [--preset quick] [--seeds N] [--out DIR] [--jobs N]
                                             every experiment, then the report
    python run.py report [--preset P] [--runs DIR] [--verbose]
                                             DIR/REPORT.md (default runs/) from the newest run of each,
                                             preferring preset P (default quick); --verbose lists the
                                             run folders it skipped and why
    python run.py compare RUN RUN [RUN ...]  runs of one experiment side by side (A, B, C, ...): claims and
                                             scalars, each run's difference from A, the verdicts that changed
    python run.py export RUN_OR_ROOT [...] [--format csv|json|latex] [--what claims|scalars] [--out FILE]
                                             a row per claim (or scalar) per run of the runs named or found
                                             under the roots; from Python: experiments.table(...)
    python run.py replot RUN                 redraw a finished run's figures from its saved data
    python run.py bench [options]            the trainer benchmark: python run.py trainer-bench
    python run.py profile module:function --args 'f32[128,256]' ...
                                             what the derivatives of your function cost (docs/autodiff_tool.md)

Each command takes --help. `python -m experiments.<module> [options]` is
`python run.py <experiment> [options]`; docs/results.md describes a run folder.
"""

import argparse
import importlib
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from common.config import UsageError
    from common.interrupts import Interrupted

    from common.xla_flags import set_compile_flags

    set_compile_flags()  # before JAX starts; `all`'s experiment processes inherit it
    try:
        code = dispatch(argv)
        sys.stdout.flush()
        return code
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `run.py list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Interrupted as interrupt:  # fit saved a checkpoint first
        print(interrupt, file=sys.stderr)
        return interrupt.exit_code
    except KeyboardInterrupt:  # Ctrl-C outside training: nothing half-done is lost either
        print(f"interrupted (SIGINT) outside training; rerun the same command with {_resume_flags(argv)} "
              "to continue from the newest checkpoint", file=sys.stderr)
        return 130


def _resume_flags(argv: list[str]) -> str:
    """The flags that resume the interrupted command: --resume, and --out DIR when it was given."""
    out = next((arg.split("=", 1)[1] for arg in argv if arg.startswith("--out=")), None)
    if out is None and "--out" in argv[:-1]:
        out = argv[argv.index("--out") + 1]
    return "--resume" if out is None else f"--resume --out {out}"


def dispatch(argv: list[str]) -> int:
    """`list`, an experiment's --help and an unknown name read experiments/catalog.json
    and import no JAX; every other command sets JAX up first."""
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command in ("list", "all"):  # `all` runs each experiment in a process of its own
        return COMMANDS[command](rest)
    if command in COMMANDS:
        _setup_jax()
        return COMMANDS[command](rest)
    entry = experiment_entry(command)
    if "-h" in rest or "--help" in rest:
        from common.experiment_help import help_text

        print(help_text(entry))
        return 0
    _setup_jax()
    return run_experiment(importlib.import_module(entry.module), rest)


def experiment_entry(name: str):
    """The catalog entry of experiment `name`; an unknown name is a UsageError naming the likely meant ones."""
    from common.config import UsageError
    from experiments import catalog, closest

    entries = catalog.entries()
    if name not in entries:
        hint = closest(name, [*entries, *COMMANDS])
        suggestion = f"; did you mean {' or '.join(hint)}?" if hint else ""
        raise UsageError(
            f"unknown command or experiment '{name}'{suggestion} (python run.py list shows the experiments)")
    return entries[name]


def require_installed() -> None:
    """The packages every experiment imports must be in this Python: otherwise one line saying
    which Python lacks what and how to set up, before anything runs (`all` would otherwise start
    seventeen processes that each fail on the import)."""
    import importlib.util

    from common.config import UsageError

    missing = [name for name in ("numpy", "jax", "flax", "optax") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"{sys.executable} has no {', '.join(missing)}: set up first with "
                         "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[mnist-subset]'")


def _setup_jax() -> None:
    require_installed()
    from common.environment import enable_compilation_cache
    from common.log import say_warnings_once
    from common.parallel import maybe_initialize_distributed

    say_warnings_once()
    maybe_initialize_distributed()
    enable_compilation_cache()


class CommandParser(argparse.ArgumentParser):
    """A command's options: bad ones raise UsageError (one line, exit 2), --help prints and exits 0."""

    def error(self, message):
        from common.config import UsageError

        raise UsageError(f"{self.prog.removeprefix('run.py ')}: {message}")


def _parser(command: str, description: str) -> CommandParser:
    return CommandParser(prog=f"run.py {command}", description=description)


def list_command(argv: list[str]) -> int:
    from experiments import catalog

    parser = _parser("list", "Every experiment: its study, its quick-preset time, its paper, what it reproduces.")
    parser.add_argument("--presets", action="store_true",
                        help="also, for each preset but quick, the options it sets to other values than quick")
    options = parser.parse_args(argv)
    return list_experiments(catalog.entries(), presets=options.presets)


def list_experiments(entries, presets: bool = False) -> int:
    """`entries` (name -> catalog Entry) as `run.py list` prints them."""
    from common.experiment_help import preset_lines

    from experiments.catalog import quick_timings

    timings = quick_timings()
    width = max(len(name) for name in entries)
    for name, e in entries.items():
        timing = timings[name].describe() if name in timings else "not timed yet"
        alone = "" if e.in_all else " (not in `all`: run it alone)"
        print(f"{name:<{width}}  [{e.study}] quick {timing}, python -m {e.module}{alone}\n{'':<{width}}  {e.paper}\n"
              f"{'':<{width}}  reproduces: {e.reproduces}")
        for line in preset_lines(e) if presets else []:
            print(f"{'':<{width}}  {line}")
    return 0


def run_experiment(module, argv: list[str]) -> int:
    """Parse, run, write the run folder; bad input leaves no folder behind, and a
    refused folder is left as it was."""
    from common import runs
    from common.config import parse

    config, options = parse(module, argv)
    if options.sweeps:
        return run_sweep(module, config, options)
    folder = options.out
    if folder is not None:
        runs.check_out_folder(folder, resume=options.resume)
        if options.resume:
            runs.check_resumable(folder, config)
    elif options.resume:
        folder = runs.resumable_folder(module.NAME, config)
        if folder is None:
            raise runs.nothing_to_resume(module.NAME)
    if folder is None:
        folder = runs.new_folder(module.NAME)
    session = runs.Session(folder, resume=options.resume, data_dir=options.data_dir, tensorboard=options.tensorboard,
                           figure_formats=options.figure_formats)
    executed = runs.execute(module, config, options.preset, session)
    from common.parallel import is_writer

    if is_writer():  # only process 0 wrote the report
        print((folder / "report.md").read_text().split("## Config")[0].strip())
        print(f"\n{module.NAME}: {executed.seconds:.1f} s, run folder {folder}")
    return 0


def run_sweep(module, config, options) -> int:
    """`--sweep FIELD=v1,v2 ...`: every point of the grid in one sweep folder (common.sweep)."""
    from common import runs, sweep
    from common.config import UsageError
    from common.option_names import CLI

    axes = [sweep.axis_from_text(text, type(config)) for text in options.sweeps]
    if options.resume and options.out is None:
        raise UsageError("--resume with --sweep needs --out SWEEP_FOLDER, the sweep to continue")
    folder = options.out if options.out is not None else runs.new_folder(module.NAME)
    sweep.run_sweep(module, options.preset, axes, config, folder, resume=options.resume, names=CLI,
                    session_options={"data_dir": options.data_dir, "tensorboard": options.tensorboard,
                                     "figure_formats": options.figure_formats},
                    launcher=options.launcher, together=options.sweep_mode == "members")
    print("\n" + (folder / "sweep.md").read_text().strip())
    print(f"\n{module.NAME}: sweep folder {folder} (sweep.md, figures/, points/)")
    return 0


def run_all(argv: list[str]) -> int:
    """Every experiment's preset, each in its own process (common.batch), then REPORT.md;
    a failed experiment is marked in the report and makes the exit code 1."""
    require_installed()
    from common import batch
    from common.config import UsageError, figure_formats
    from common.report import Failure
    from common.run_records import RUNS
    from experiments import catalog

    parser = _parser("all", "Every experiment's preset, then REPORT.md in the runs folder. "
                            "Each experiment's output goes to log.txt in its run folder.")
    parser.add_argument("--preset", choices=("quick", "paper"), default="quick")
    parser.add_argument("--jobs", type=_positive_int, default=default_jobs(), metavar="N",
                        help=f"experiments at once, each its own process (default {default_jobs()} here)")
    parser.add_argument("--seeds", type=_positive_int, default=None, metavar="N",
                        help="--seeds N for every experiment that has seeds (not ad-cost: it times programs)")
    parser.add_argument("--out", type=Path, default=RUNS, metavar="DIR",
                        help="root of the run folders and of REPORT.md (default runs)")
    parser.add_argument("--tensorboard", action="store_true", help="--tensorboard for every experiment")
    parser.add_argument("--figure-format", type=figure_formats, default=("png",), dest="figure_formats",
                        metavar="png,pdf,svg", help="save every figure in these formats too (default png)")
    options = parser.parse_args(argv)
    if options.out.exists() and not options.out.is_dir():
        raise UsageError(f"all: --out {options.out} is a file, not a folder")
    entries = {name: entry for name, entry in catalog.entries().items() if entry.in_all}
    alone = [name for name, entry in catalog.entries().items() if not entry.in_all]
    jobs = all_jobs(entries, options)
    print(f"running {len(jobs)} experiments ({options.preset} preset), {options.jobs} at a time, each its own "
          f"process; each one's output in <run folder>/log.txt", flush=True)
    if alone:
        print(f"not in all (each runs alone, `python run.py list` says how): {', '.join(alone)}", flush=True)
    try:
        finished = batch.run_jobs(jobs, options.jobs)
    except batch.Stopped as stopped:
        print(f"interrupted after {len(stopped.finished)} of {len(jobs)} experiments; no REPORT.md written. "
              f"To continue the interrupted ones:\n{stopped.advice()}\nthen python run.py report", file=sys.stderr)
        return 130
    failures = {f.job.name: Failure(f.error, f.job.log) for f in finished if f.failed}
    print("\n" + batch.summary(finished, list(entries)))
    write_report(list(entries), options.out, options.preset, failures)
    if failures:
        print(f"failed: {', '.join(failures)} (their logs are named above and in the report)", file=sys.stderr)
        return 1
    return 0


def all_jobs(entries: dict, options) -> list:
    """One `common.batch.Job` per experiment: `all`'s options passed on (--seeds only where the
    experiment has seeds), a new folder under the root, its expected seconds."""
    from common import batch
    from common.run_records import new_folder

    from experiments.catalog import UNTIMED_SECONDS, quick_timings

    timings = quick_timings()
    jobs = []
    for name, entry in entries.items():
        arguments = [name, "--preset", options.preset]
        if options.seeds is not None and any(o.name == "seeds" for o in entry.options):
            arguments += ["--seeds", str(options.seeds)]
        if options.tensorboard:
            arguments.append("--tensorboard")
        if options.figure_formats != ("png",):
            arguments += ["--figure-format", ",".join(options.figure_formats)]
        jobs.append(batch.Job(name, tuple(arguments), new_folder(name, options.out),
                              timings[name].cold if name in timings else UNTIMED_SECONDS))
    return jobs


def default_jobs() -> int:
    """Two experiments at a time where there are two cores: most of a quick experiment's time is XLA
    compiling, which keeps about one core busy, so on the 2-core development CPU a cold `all` took 303 s
    at --jobs 2 against 362 s at --jobs 1 (scripts/first_run_bench.py --cold-only, 2026-12-07). More
    at once is not measured, so not the default."""
    return min(2, os.cpu_count() or 1)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def report_command(argv: list[str]) -> int:
    from common.config import UsageError
    from common.run_records import RUNS
    from experiments import catalog

    entries = catalog.entries()
    presets = sorted({preset for entry in entries.values() for preset in entry.presets})
    parser = _parser("report", "REPORT.md in the runs folder: each experiment's newest finished run, "
                               "preferring the named preset, with its preset and overrides.")
    parser.add_argument("--preset", default="quick", choices=presets,
                        help="preset whose runs are preferred (default quick)")
    parser.add_argument("--runs", type=Path, default=RUNS, metavar="DIR",
                        help="folder whose finished runs (at any depth) are gathered (default runs)")
    parser.add_argument("--verbose", action="store_true",
                        help="also list on stderr each run folder skipped (unreadable or unfinished) and why")
    options = parser.parse_args(argv)
    if not options.runs.is_dir():
        raise UsageError(f"report: no runs folder {options.runs} (run an experiment first, or name one with --runs)")
    return write_report(list(entries), options.runs, options.preset, verbose=options.verbose)


def write_report(order: list[str], root: Path, preset: str, failures: dict | None = None,
                 verbose: bool = False) -> int:
    """root/REPORT.md, written whole (a temporary file moved in); refused, with nothing
    written, when there is neither a finished, readable run nor a failure to report."""
    import tempfile

    from common.config import UsageError
    from common.report import collect, skipped_lines
    from common.run_records import scan

    found = scan(root)
    if verbose:
        for line in skipped_lines(found):
            print(line, file=sys.stderr)
    if not found.runs and not failures:
        raise UsageError(nothing_to_report(root, found, verbose))
    text = collect(root, order, preset, failures, found)
    path = root / "REPORT.md"
    if os.path.isdir(path) or (os.path.lexists(path) and not os.path.islink(path) and not os.path.isfile(path)):
        raise UsageError(f"report: cannot write {path}: something other than a file is there")
    tmp = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        descriptor, tmp = tempfile.mkstemp(dir=root, prefix=".REPORT.md.", suffix=".tmp")
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        os.replace(tmp, path)
    except OSError as error:
        raise UsageError(f"report: cannot write {path} ({error.strerror or error})") from None
    finally:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)
    print(f"wrote {path}")
    if found.skipped:
        print(f"skipped {len(found.skipped)} run folder(s) that could not be read (named at the end of {path})",
              file=sys.stderr)
    return 0


def nothing_to_report(root: Path, found, verbose: bool) -> str:
    """Why `report` wrote nothing: no finished, readable run under `root`, and what was there instead."""
    counts = [f"{len(found.skipped)} unreadable" if found.skipped else "",
              f"{len(found.unfinished)} unfinished" if found.unfinished else ""]
    seen = ", ".join(c for c in counts if c)
    if not seen:
        return f"report: no finished runs under {root}: nothing to report"
    where = "listed above" if verbose else "--verbose lists them"
    return f"report: no finished, readable runs under {root} ({seen}; {where}): nothing to report"


def compare_command(argv: list[str]) -> int:
    from common.compare import compare
    from common.run_records import read_finished

    parser = _parser("compare", "Two or more finished runs of one experiment (A, B, C, ...): claims (verdict, "
                                "value, interval) and scalars side by side, each later run's difference from A "
                                "(with an approximate interval), and the claims whose verdict differs from A's.")
    parser.add_argument("first", type=Path, metavar="RUN", help="run A, the one the others are compared with")
    parser.add_argument("others", type=Path, nargs="+", metavar="RUN", help="runs B, C, ...")
    options = parser.parse_args(argv)
    print(compare(*(read_finished(folder) for folder in (options.first, *options.others))), end="")
    return 0


def export_command(argv: list[str]) -> int:
    from common.export import FORMATS, WHATS, render, table
    from common.whole_file import print_or_write

    parser = _parser("export", "Finished runs as one table: a row per claim (or per scalar) per run, as CSV, "
                               "JSON or LaTeX (from Python: experiments.table).")
    parser.add_argument("paths", type=Path, nargs="+", metavar="RUN_OR_ROOT",
                        help="a finished run folder, or a folder whose finished runs (at any depth) are gathered")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="default csv")
    parser.add_argument("--what", choices=WHATS, default="claims",
                        help="claims: statement, value, interval, verdict, control and the config fields that "
                             "differ; scalars: name and value (default claims)")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="write FILE whole (a temporary file moved in) instead of printing the table")
    options = parser.parse_args(argv)
    text = render(table(*options.paths, what=options.what), options.format)
    print_or_write(text, options.out)
    return 0


def replot_command(argv: list[str]) -> int:
    import experiments
    from common.config import figure_formats

    parser = _parser("replot", "Redraw a finished run's figures/ from its results.npz, without training.")
    parser.add_argument("run", type=Path, metavar="RUN")
    parser.add_argument("--figure-format", type=figure_formats, default=("png",), dest="figure_formats",
                        metavar="png,pdf,svg", help="save every figure in these formats too (default png)")
    options = parser.parse_args(argv)
    for drawn in experiments.replot(options.run, figure_formats=options.figure_formats):
        print(f"wrote {drawn}")
    return 0


def bench_command(argv: list[str]) -> int:
    """The trainer benchmark is an experiment now: `bench` is `trainer-bench`."""
    import experiments

    return run_experiment(experiments.find("trainer-bench"), argv)


def profile_command(argv: list[str]) -> int:
    """What the derivatives of a function you name cost: common/profile_command.py."""
    from common.profile_command import profile_command as command

    return command(argv)


COMMANDS = {
    "list": list_command,
    "all": run_all,
    "report": report_command,
    "compare": compare_command,
    "export": export_command,
    "replot": replot_command,
    "bench": bench_command,
    "profile": profile_command,
}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
