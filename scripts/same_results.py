"""Are two runs' results the same? For a refactor that must not change what an experiment measures:

    python scripts/same_results.py RUN_A/results.json RUN_B/results.json [--renamed OLD=NEW ...]

Compares every claim (statement, value, interval, verdict, in order) and every scalar exactly; prints
each difference and exits 1 if there is one, 0 if the results are the same. `--renamed` maps a scalar
key or claim statement renamed on purpose in B back to A's name."""

import argparse
import json
import sys


def load(path: str) -> dict:
    with open(path) as handle:
        return json.load(handle)


def differences(a: dict, b: dict, renamed: dict[str, str]) -> list[str]:
    back = {new: old for old, new in renamed.items()}
    out = []
    claims_a = {c["statement"]: c for c in a["claims"]}
    claims_b = {back.get(c["statement"], c["statement"]): c for c in b["claims"]}
    for statement in claims_a.keys() | claims_b.keys():
        ca, cb = claims_a.get(statement), claims_b.get(statement)
        if ca is None or cb is None:
            out.append(f"claim only in {'B' if ca is None else 'A'}: {statement}")
            continue
        for field in ("value", "interval", "verdict"):
            if ca.get(field) != cb.get(field):
                out.append(f"claim '{statement[:70]}' {field}: {ca.get(field)} -> {cb.get(field)}")
    scalars_b = {back.get(k, k): v for k, v in b["scalars"].items()}
    for key in sorted(a["scalars"].keys() | scalars_b.keys()):
        if a["scalars"].get(key) != scalars_b.get(key):
            out.append(f"scalar {key}: {a['scalars'].get(key)} -> {scalars_b.get(key)}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--renamed", action="append", default=[], metavar="OLD=NEW")
    options = parser.parse_args()
    renamed = dict(item.split("=", 1) for item in options.renamed)
    found = differences(load(options.a), load(options.b), renamed)
    print("\n".join(found) if found else f"same: {len(load(options.a)['claims'])} claims, "
          f"{len(load(options.a)['scalars'])} scalars")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
