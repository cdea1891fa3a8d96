"""A `research.autodiff.profile.Profile` as Markdown (the table, the A/A noise
floor, the notes and the advice), as CSV (one line per row) and as JSON (the
rows, the A/A, the notes and the advice); missing figures are empty in CSV and
null in JSON."""

from __future__ import annotations

import csv
import io
import json
import math

from common import stats
from research.autodiff.profile import Profile, ProfileRow

FORMATS = ("md", "csv", "json")


def _ratio_text(m: stats.Measurement | None) -> str:
    if m is None:
        return ""
    return f"{m:.3g}"


def format_profile(p: Profile) -> str:
    """The profile as a Markdown table, the A/A noise floor, the notes and the advice."""
    f = p.f
    lines = [(f"f: {f.flops / 1e6:.4g} MFLOP (XLA), {f.loop_flops / 1e6:.4g} MFLOP (loops counted), "
              f"{f.seconds * 1e3:.3g} ms; {p.inputs} differentiated inputs, {p.outputs} outputs; memory budget "
              f"{p.memory_budget / 2**20:.4g} MiB."), "",
             ("| policy | transform | ms | time / f [95%] | time / no remat [95%] | MFLOP (XLA) | "
              "MFLOP (loops counted) | MB accessed | residuals MiB | temp MiB | peak MiB | note |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in p.rows:
        lines.append(f"| {r.policy} | {r.transform} | {r.seconds * 1e3:.3g} | {_ratio_text(r.time_over_f)} | "
                     f"{_ratio_text(r.time_vs_none)} | {r.flops / 1e6:.4g} | {r.loop_flops / 1e6:.4g} | "
                     f"{r.bytes_accessed / 1e6:.3g} | {r.residual_bytes / 2**20:.3g} | {r.temp_bytes / 2**20:.3g} | "
                     f"{r.peak_bytes / 2**20:.3g} | {r.note} |")
    lines += ["", f"A/A (f against itself): {_ratio_text(p.aa)}; time ratios inside that band are noise.", *p.notes]
    return "\n".join(lines + [""] + p.advice)


def _number(x: float | None) -> float | int | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def _measurement(m: stats.Measurement | None) -> dict:
    low, high = (None, None) if m is None or m.interval is None else m.interval
    return {"value": _number(None if m is None else m.value), "low": _number(low), "high": _number(high)}


def _ratio_fields(prefix: str, m: stats.Measurement | None) -> dict:
    """`prefix`, `prefix_low`, `prefix_high`: a ratio and its 95% interval as flat fields."""
    return {prefix if key == "value" else f"{prefix}_{key}": value for key, value in _measurement(m).items()}


def record(r: ProfileRow) -> dict:
    """One row as flat named fields (seconds, bytes and FLOPs in base units)."""
    return {"policy": r.policy, "transform": r.transform, "seconds": _number(r.seconds),
            "fastest_seconds": _number(r.fastest_seconds), **_ratio_fields("time_over_f", r.time_over_f),
            **_ratio_fields("time_vs_none", r.time_vs_none), "flops_xla": _number(r.flops),
            "flops_loops_counted": _number(r.loop_flops), "bytes_accessed": _number(r.bytes_accessed),
            "residual_bytes": _number(r.residual_bytes), "temp_bytes": _number(r.temp_bytes),
            "peak_bytes": _number(r.peak_bytes), "peak_source": r.peak_source, "too_small": r.too_small,
            "note": r.note}


def profile_csv(p: Profile) -> str:
    """One CSV line per row, a header first; the notes and advice are in md and json only."""
    records = [record(r) for r in p.rows]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in rec.items()} for rec in records)
    return out.getvalue()


def profile_json(p: Profile) -> str:
    """The whole profile as one JSON object (missing figures null)."""
    return json.dumps({"inputs": p.inputs, "outputs": p.outputs, "memory_budget_bytes": p.memory_budget,
                       "aa": _measurement(p.aa), "aliases": p.aliases,
                       "rows": [record(r) for r in p.rows], "notes": p.notes, "advice": p.advice}, indent=1)


def render(p: Profile, form: str) -> str:
    """The profile in one of FORMATS, ending in a newline."""
    text = {"md": format_profile, "csv": profile_csv, "json": profile_json}[form](p)
    return text if text.endswith("\n") else text + "\n"
