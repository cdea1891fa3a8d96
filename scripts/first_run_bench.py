"""The first run as a new user meets it: `python run.py all --preset quick` with an
empty cache (no compiled programs, no MNIST-1D file), then again warm (same cache),
each in a fresh folder; per experiment the wall, compile and run seconds of both.

    python scripts/first_run_bench.py                 # cold then warm, prints the table
    python scripts/first_run_bench.py --write         # also docs/first_run.md, experiments/timings.json
                                                      # and the README's two numbers
    python scripts/first_run_bench.py --cold-only --keep runs-cold   # one pass, its run folders kept

`experiments/timings.json` is what `run.py all` reads for its order and time left and
`run.py list` shows; docs/first_run.md is the table with the command and machine.
"""

import argparse
import json
import re
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMINGS = ROOT / "experiments" / "timings.json"
DOC = ROOT / "docs" / "first_run.md"
README = ROOT / "README.md"
README_SPAN = re.compile(r"(<!-- first run -->).*?(<!-- end first run -->)", re.S)


@dataclass(frozen=True)
class Pass:
    """One `run.py all`: its wall seconds, exit code, and per experiment (seconds, compile seconds)."""

    wall: float
    returncode: int
    experiments: dict[str, tuple[float, float]]


def run_all(workdir: Path, cache: Path, jobs: int | None) -> Pass:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    command = [sys.executable, str(ROOT / "run.py"), "all", "--preset", "quick"]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env=env)
    wall = time.perf_counter() - started
    experiments = {}
    for path in sorted((workdir / "runs").glob("*/*/results.json")):
        results = json.loads(path.read_text())
        experiments[results["experiment"]] = (results["seconds"], results.get("compile_seconds", float("nan")))
    return Pass(wall, done.returncode, experiments)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(cold: Pass, warm: Pass | None) -> str:
    """Per experiment: seconds and compile seconds, cold and (where measured) warm."""
    total = lambda p, i: sum(v[i] for v in p.experiments.values())  # noqa: E731
    if warm is None:
        lines = ["| experiment | cold s | cold compile s |", "|---|---|---|"]
        lines += [f"| {name} | {s:.1f} | {c:.1f} |" for name, (s, c) in cold.experiments.items()]
        lines.append(f"| sum | {total(cold, 0):.1f} | {total(cold, 1):.1f} |")
        return "\n".join(lines)
    lines = ["| experiment | cold s | cold compile s | warm s | warm compile s |", "|---|---|---|---|---|"]
    for name, (seconds, compiled) in cold.experiments.items():
        w_seconds, w_compiled = warm.experiments.get(name, (float("nan"), float("nan")))
        lines.append(f"| {name} | {seconds:.1f} | {compiled:.1f} | {w_seconds:.1f} | {w_compiled:.1f} |")
    lines.append(f"| sum | {total(cold, 0):.1f} | {total(cold, 1):.1f} | {total(warm, 0):.1f} | {total(warm, 1):.1f} |")
    return "\n".join(lines)


def timing_record(p: Pass) -> dict:
    return {name: {"seconds": round(s, 1), "compile_seconds": round(c, 1)} for name, (s, c) in p.experiments.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=None, help="run.py all --jobs (default: its own default)")
    parser.add_argument("--write", action="store_true", help="write docs/first_run.md and experiments/timings.json")
    parser.add_argument("--cold-only", action="store_true", help="the cold pass only")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="copy the cold pass's runs folder (run folders, logs, REPORT.md) to DIR")
    options = parser.parse_args()
    if options.keep is not None and options.keep.exists():
        parser.error(f"--keep {options.keep} exists")
    with tempfile.TemporaryDirectory(prefix="theory-lab-first-run-") as tmp:
        tmp = Path(tmp)
        (tmp / "work").mkdir()
        cold = run_all(tmp / "work", tmp / "cache", options.jobs)
        if options.keep is not None:
            shutil.copytree(tmp / "work" / "runs", options.keep)
        warm = None
        if not options.cold_only:
            (tmp / "work2").mkdir()
            warm = run_all(tmp / "work2", tmp / "cache", options.jobs)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    flags = (f"{' --jobs ' + str(options.jobs) if options.jobs else ''}{' --cold-only' if options.cold_only else ''}"
             f"{' --keep ' + str(options.keep) if options.keep else ''}")
    head = (f"`python scripts/first_run_bench.py --write{flags}` "
            f"at commit {commit}, {time.strftime('%Y-%m-%d %H:%M')}, on {machine()}: "
            f"`run.py all --preset quick` cold (empty cache) **{cold.wall:.0f} s** (exit {cold.returncode})"
            + (f", warm {warm.wall:.0f} s (exit {warm.returncode})." if warm else "; no warm pass (--cold-only)."))
    text = f"{head}\n\n{table(cold, warm)}\n"
    print(text)
    if options.write:
        DOC.write_text("# The first run: `run.py all --preset quick`, cold and warm\n\n"
                       "Written by `python scripts/first_run_bench.py --write`. Per experiment, the wall seconds of "
                       "its run and the seconds JAX spent tracing, lowering and compiling (summed over threads, "
                       "so it can exceed the wall time). The wall time of `all` adds starting each "
                       "experiment's process and the report.\n\n" + text)
        TIMINGS.write_text(json.dumps({"about": head, "cold": timing_record(cold),
                                       "warm": timing_record(warm) if warm else {}}, indent=2) + "\n")
        if warm is not None:  # the README's opening sentence quotes the two numbers
            span = f"{cold.wall:.0f} s on a 2-core CPU the first time, {warm.wall:.0f} s the second"
            README.write_text(README_SPAN.sub(lambda m: f"{m[1]}{span}{m[2]}", README.read_text()))
    return 0 if cold.returncode == 0 and (warm is None or warm.returncode == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
