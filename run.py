"""theory-lab: run the experiments that reproduce the notes' papers.

    python run.py list                       every experiment, its paper, its quick-preset time
    python run.py <experiment> [options]     one experiment (--help for its options)
    python run.py all [--preset quick]       every experiment, then the report
    python run.py report [--preset P] [--runs DIR]
                                             DIR/REPORT.md (default runs/) from the newest run of each,
                                             preferring preset P (default quick)
    python run.py compare RUN_A RUN_B        two runs' claims and scalars side by side
    python run.py replot RUN                 redraw a finished run's figures from its saved data
    python run.py bench [options]            the trainer benchmark: python run.py trainer-bench

Each command takes --help. `python -m experiments.<module> [options]` is
`python run.py <experiment> [options]`; docs/results.md describes a run folder.
"""

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from common.config import UsageError
    from common.interrupts import Interrupted

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
    from common.config import UsageError

    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    _setup_jax()
    import experiments

    if command in COMMANDS:
        return COMMANDS[command](rest)
    module = experiments.find(command)
    if module is None:
        hint = experiments.closest(command, [*experiments.all_experiments(), *COMMANDS])
        suggestion = f"; did you mean {' or '.join(hint)}?" if hint else ""
        raise UsageError(
            f"unknown command or experiment '{command}'{suggestion} (python run.py list shows the experiments)")
    return run_experiment(module, rest)


def _setup_jax() -> None:
    from common.environment import enable_compilation_cache
    from common.parallel import maybe_initialize_distributed

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
    import experiments

    parser = _parser("list", "Every experiment: its study, its quick-preset time, its paper, what it reproduces.")
    parser.parse_args(argv)
    return list_experiments(experiments.all_experiments())


def list_experiments(registry) -> int:
    rows = [(name, m.STUDY, f"~{m.QUICK_SECONDS}s", m.PAPER, m.REPRODUCES) for name, m in registry.items()]
    width = max(len(r[0]) for r in rows)
    for name, study, seconds, paper, what in rows:
        print(f"{name:<{width}}  [{study}] quick {seconds}\n{'':<{width}}  {paper}\n{'':<{width}}  reproduces: {what}")
    return 0


def run_experiment(module, argv: list[str]) -> int:
    """Parse, run, write the run folder; bad input leaves no folder behind."""
    from common import runs
    from common.config import parse

    config, options = parse(module, argv)
    folder = options.out
    if folder is not None:
        runs.check_out_folder(folder, resume=options.resume)
        if options.resume:
            runs.check_resumable(folder, config)
    if options.resume and folder is None:
        folder = runs.resumable_folder(module.NAME, config)
        if folder is None:
            print(f"no unfinished run of {module.NAME} with this config: starting a new one", file=sys.stderr)
    resuming = options.resume and folder is not None and (folder / "config.json").exists()
    if folder is None:
        folder = runs.new_folder(module.NAME)
    session = runs.Session(folder, resume=resuming, data_dir=options.data_dir, tensorboard=options.tensorboard)
    executed = runs.execute(module, config, options.preset, session)
    from common.parallel import is_writer

    if is_writer():  # only process 0 wrote the report
        print((folder / "report.md").read_text().split("## Config")[0].strip())
        print(f"\n{module.NAME}: {executed.seconds:.1f} s, run folder {folder}")
    return 0


def run_all(argv: list[str]) -> int:
    import experiments
    from common.config import UsageError
    from common.runs import RUNS

    parser = _parser("all", "Every experiment's preset in turn, then runs/REPORT.md.")
    parser.add_argument("--preset", choices=("quick", "paper"), default="quick")
    options, unknown = parser.parse_known_args(argv)
    if unknown:
        raise UsageError(f"'all' takes only --preset {{paper,quick}} (got {' '.join(argv)})")
    registry = experiments.all_experiments()
    failures = []
    for name, module in registry.items():
        print(f"\n=== {name} ===", flush=True)
        try:
            run_experiment(module, ["--preset", options.preset])
        except UsageError as error:  # e.g. a paper preset whose data is not at hand
            print(f"error: {error}", file=sys.stderr)
            failures.append(name)
    write_report(list(registry), RUNS, options.preset)
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def report_command(argv: list[str]) -> int:
    import experiments
    from common.config import UsageError
    from common.runs import RUNS

    parser = _parser("report", "REPORT.md in the runs folder: each experiment's newest finished run, "
                               "preferring the named preset, with its preset and overrides.")
    parser.add_argument("--preset", default="quick", help="preset whose runs are preferred (default quick)")
    parser.add_argument("--runs", type=Path, default=RUNS, metavar="DIR",
                        help="folder whose finished runs (at any depth) are gathered (default runs)")
    options = parser.parse_args(argv)
    if not options.runs.is_dir():
        raise UsageError(f"report: no runs folder {options.runs} (run an experiment first, or name one with --runs)")
    return write_report(list(experiments.all_experiments()), options.runs, options.preset)


def write_report(order: list[str], root: Path, preset: str) -> int:
    from common.report import collect

    text = collect(root, order, preset)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "REPORT.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    print(f"wrote {path}")
    return 0


def compare_command(argv: list[str]) -> int:
    from common.compare import compare
    from common.run_records import read_finished

    parser = _parser("compare", "Two finished runs of one experiment: claims (verdict, value, interval) "
                                "and scalars side by side.")
    parser.add_argument("run_a", type=Path, metavar="RUN_A")
    parser.add_argument("run_b", type=Path, metavar="RUN_B")
    options = parser.parse_args(argv)
    print(compare(read_finished(options.run_a), read_finished(options.run_b)), end="")
    return 0


def replot_command(argv: list[str]) -> int:
    import experiments

    parser = _parser("replot", "Redraw a finished run's figures/ from its results.npz, without training.")
    parser.add_argument("run", type=Path, metavar="RUN")
    options = parser.parse_args(argv)
    for png in experiments.replot(options.run):
        print(f"wrote {png}")
    return 0


def bench_command(argv: list[str]) -> int:
    """The trainer benchmark is an experiment now: `bench` is `trainer-bench`."""
    import experiments

    return run_experiment(experiments.find("trainer-bench"), argv)


COMMANDS = {
    "list": list_command,
    "all": run_all,
    "report": report_command,
    "compare": compare_command,
    "replot": replot_command,
    "bench": bench_command,
}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
