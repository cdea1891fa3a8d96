"""The README's verdict table from a folder of finished runs (e.g. the runs that
`python scripts/first_run_bench.py --cold-only --keep DIR` kept): per study, each
experiment's reproduced / not reproduced / inconclusive counts, and the claims
with no verdict (not measured, not run at this preset) where there are any.

    python scripts/verdict_table.py DIR
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.report import newest_finished_runs, verdict_counts  # noqa: E402
from experiments import catalog  # noqa: E402

STUDY_NAMES = {"foundation": "foundation", "autodiff": "forward vs reverse mode", "selu": "SELU",
               "pruning": "pruning", "gan": "GAN convergence", "bayes": "Bayes by Backprop"}


def counts_cell(claims: list[dict]) -> str:
    c = verdict_counts(claims)
    cell = f"{c['reproduced']}/{c['not reproduced']}/{c['inconclusive']}"
    extra = [f"{n} {kind}" for kind, n in list(c.items())[3:] if n]
    return cell + (f" ({', '.join(extra)})" if extra else "")


def table(root: Path) -> str:
    runs = newest_finished_runs(root)
    by_study: dict[str, list[str]] = {}
    for name, entry in catalog.entries().items():
        by_study.setdefault(entry.study, []).append(name)
    lines = ["| study | experiments | reproduced / not / inconclusive (quick presets) |", "|---|---|---|"]
    for study, names in by_study.items():
        shown = [n for n in names if n in runs]
        cells = [counts_cell(runs[n].results.get("claims", [])) for n in shown]
        lines.append(f"| {STUDY_NAMES.get(study, study)} | {', '.join(f'`{n}`' for n in shown)} | {', '.join(cells)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print("usage: python scripts/verdict_table.py RUNS_DIR", file=sys.stderr)
        sys.exit(2)
    print(table(Path(sys.argv[1])))
