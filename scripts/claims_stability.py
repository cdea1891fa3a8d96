"""docs/claims.md's table: every claim of two `python run.py all --preset quick` runs
(two run roots), how it is decided, its control, and its verdict in each run.

    python run.py all --preset quick && mv runs runs-a
    python run.py all --preset quick && mv runs runs-b
    python scripts/claims_stability.py runs-a runs-b > docs/claims-table.md
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import experiments  # noqa: E402
from common.report import markdown_table, newest_finished_runs  # noqa: E402


def interval(c: dict) -> str:
    i = c.get("interval")
    if i is None:
        return f"{c['measured']} (exact)"
    lo, hi = ("nan" if v is None else f"{v:.3g}" for v in i)  # a NaN end is saved as null
    return f"{c['measured']} [{lo}, {hi}]"


def main(first: str, second: str) -> int:
    a, b = newest_finished_runs(Path(first)), newest_finished_runs(Path(second))
    rows, same, total = [], 0, 0
    for name in experiments.all_experiments():
        if name not in a or name not in b:
            rows.append({"experiment": name, "claim": "(no finished run in both roots)"})
            continue
        claims_b = {c["statement"]: c for c in b[name].results["claims"]}
        for c in a[name].results["claims"]:
            other = claims_b.get(c["statement"], {})
            total += 1
            same += c["verdict"] == other.get("verdict")
            control = c.get("control") or {}
            rows.append({
                "experiment": name, "claim": c["statement"],
                "decided by": f"{c.get('region', '?')}; {c.get('how') or 'exact'}",
                "control": control.get("name", "?") + (" (measured at run time)" if control.get("value") is not None
                                                       else ""),
                "run 1": f"{c['verdict']}: {interval(c)}",
                "run 2": f"{other.get('verdict', 'absent')}: {interval(other)}" if other else "absent",
                "same": "yes" if c["verdict"] == other.get("verdict") else "**no**",
            })
    print(f"{same} of {total} claims have the same verdict in both runs.\n")
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: python scripts/claims_stability.py RUNS_A RUNS_B", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
