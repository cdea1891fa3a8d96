"""theory-lab: run the experiments that reproduce the notes' papers.

    python run.py list                       every experiment, its paper, its quick-preset time
    python run.py <experiment> [options]     one experiment (--help for its options)
    python run.py all [--preset quick]       every experiment, then the report
    python run.py report                     runs/REPORT.md from the newest run of each
    python run.py bench [options]            the trainer benchmark: python run.py trainer-bench
"""

import shutil
import sys
import time
from pathlib import Path

COMMANDS = ("list", "all", "report", "bench")


def main(argv: list[str]) -> int:
    from common.config import UsageError
    from common.interrupts import Interrupted

    try:
        return dispatch(argv)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Interrupted as interrupt:  # fit saved a checkpoint first
        print(interrupt, file=sys.stderr)
        return interrupt.exit_code
    except KeyboardInterrupt:  # Ctrl-C outside training: nothing half-done is lost either
        print("interrupted (SIGINT) outside training; rerun the same command with --resume to continue "
              "from the newest checkpoint", file=sys.stderr)
        return 130


def dispatch(argv: list[str]) -> int:
    from common.config import UsageError

    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    _setup_jax()
    import experiments

    if command == "list":
        return list_experiments(experiments.all_experiments())
    if command == "report":
        _no_options(rest, "report")
        return write_report(experiments.all_experiments())
    if command == "bench":  # the trainer benchmark is an experiment now
        command = "trainer-bench"
    if command == "all":
        return run_all(experiments.all_experiments(), rest)
    module = experiments.find(command)
    if module is None:
        names = list(experiments.all_experiments()) + list(COMMANDS)
        hint = experiments.closest(command, names)
        suggestion = f"; did you mean {' or '.join(hint)}?" if hint else ""
        raise UsageError(f"unknown experiment '{command}'{suggestion} (python run.py list shows them all)")
    return run_experiment(module, rest)


def _setup_jax() -> None:
    from common.environment import enable_compilation_cache
    from common.parallel import maybe_initialize_distributed

    maybe_initialize_distributed()
    enable_compilation_cache()


def _no_options(rest: list[str], command: str) -> None:
    from common.config import UsageError

    if rest:
        raise UsageError(f"'{command}' takes no options (got {' '.join(rest)})")


def list_experiments(registry) -> int:
    rows = [(name, m.STUDY, f"~{m.QUICK_SECONDS}s", m.PAPER, m.REPRODUCES) for name, m in registry.items()]
    width = max(len(r[0]) for r in rows)
    for name, study, seconds, paper, what in rows:
        print(f"{name:<{width}}  [{study}] quick {seconds}\n{'':<{width}}  {paper}\n{'':<{width}}  reproduces: {what}")
    return 0


def run_experiment(module, argv: list[str]) -> int:
    """Parse, run, write the run folder; bad input leaves no folder behind."""
    from common import runs
    from common.config import UsageError, parse
    from common.data import DataError

    config, options = parse(module, argv)
    folder = options.out
    if options.resume and folder is None:
        folder = runs.resumable_folder(module.NAME, config)
        if folder is None:
            print(f"no unfinished run of {module.NAME} with this config: starting a new one", file=sys.stderr)
    resuming = options.resume and folder is not None and (folder / "config.json").exists()
    if folder is None:
        folder = runs.new_folder(module.NAME)
    created = [p for p in (folder, *folder.absolute().parents) if not p.exists()]
    session = runs.Session(folder, resume=resuming, data_dir=options.data_dir)
    started = time.perf_counter()
    try:
        runs.start(folder, config)
        results = module.run(config, session)
        seconds = time.perf_counter() - started
        runs.finish(folder, module, config, results, seconds)
    except DataError as error:
        _remove_created(created)
        raise UsageError(str(error)) from None
    from common.parallel import is_writer

    if is_writer():  # only process 0 wrote the report
        print((folder / "report.md").read_text().split("## Config")[0].strip())
        print(f"\n{module.NAME}: {seconds:.1f} s, run folder {folder}")
    return 0


def _remove_created(created: list[Path]) -> None:
    """Bad input found mid-way: remove the folders this invocation made."""
    if created:
        shutil.rmtree(created[0], ignore_errors=True)
        for parent in created[1:]:
            try:
                parent.rmdir()
            except OSError:
                break


def run_all(registry, argv: list[str]) -> int:
    from common.config import UsageError

    presets = {"quick", "paper"}
    if argv not in ([], ["--preset", "quick"], ["--preset", "paper"]):
        raise UsageError(f"'all' takes only --preset {{{','.join(sorted(presets))}}} (got {' '.join(argv)})")
    failures = []
    for name, module in registry.items():
        print(f"\n=== {name} ===", flush=True)
        try:
            run_experiment(module, argv)
        except UsageError as error:  # e.g. a paper preset whose data is not at hand
            print(f"error: {error}", file=sys.stderr)
            failures.append(name)
    write_report(registry)
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def write_report(registry) -> int:
    from common.report import collect
    from common.runs import RUNS

    text = collect(RUNS, list(registry))
    RUNS.mkdir(exist_ok=True)
    path = RUNS / "REPORT.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
