"""A sweep's summary: sweep.md (a row per point, a column per claim; then a column per
scalar) and one figure per claim (its value and interval) and per scalar (its value)
over the first swept axis (common.sweep)."""

import itertools
import math
from pathlib import Path

from common.report import claim_cell, markdown_table, number_text


def statements(done) -> list[str]:
    """Every claim statement the points measured, in the order the first point lists them."""
    return list(dict.fromkeys(c["statement"] for result in done for c in result.claims))


def table(axes, done, batches=()) -> str:
    """sweep.md: the grid, which points trained as members of one program (`batches`: the
    batched fields and the points' indices), then a row per point with each claim's verdict,
    value and interval."""
    claims = statements(done)
    rows = []
    for result in done:
        by_statement = {c["statement"]: c for c in result.claims}
        row = {**{a.field: result.point.values[a.field] for a in axes},
               "folder": f"points/{result.point.folder.name}",
               "seconds": number_text(result.seconds) if result.seconds is not None else "n/a"}
        row.update({f"claim {k}": claim_cell(by_statement.get(s)) for k, s in enumerate(claims, 1)})
        rows.append(row)
    legend = "\n".join(f"- claim {k}: {s} (figures/claim{k:02d}.png)" for k, s in enumerate(claims, 1))
    grid = ", ".join(f"{a.field} = {', '.join(map(str, a.values))}" for a in axes)
    names = scalar_names(done)
    scalars = [{**{a.field: r.point.values[a.field] for a in axes},
                **{name: number_text(_scalar(r, name)) for name in names}}
               for r in done]
    scalar_part = (f"\n## Scalars (figures/scalar-NAME.png)\n\n{markdown_table(scalars)}" if names else "")
    together = "".join(f"Points {', '.join(str(i + 1) for i in indices)} trained as members of one compiled "
                       f"program ({', '.join(fields)}; their checkpoints in batches/): the first of them to run "
                       "trained them all, so its seconds hold every point's training and the others' only "
                       "their own analysis.\n\n"
                       for fields, indices in batches)
    return (f"# Sweep: {grid}\n\n{len(done)} points, each a run folder under points/ (named by a hash of its "
            f"config).\n\n{together}{markdown_table(rows)}\n{legend}\n{scalar_part}")


def scalar_names(done) -> list[str]:
    """Every scalar a point recorded, in the order the first point lists them."""
    return list(dict.fromkeys(name for result in done for name in result.scalars))


def figures(axes, done, directory: Path) -> list[Path]:
    """figures/claimNN.png: each claim's value with its interval (error bars) over the
    first axis, a line per combination of the other axes' values; figures/scalar-NAME.png
    the same for each scalar (no interval: results.json's scalars have none)."""
    drawn = []
    for k, statement in enumerate(statements(done), 1):
        values = {_key(r.point.values): _claim(r, statement) for r in done}
        drawn.append(_over_first_axis(axes, values, directory, f"claim{k:02d}", statement,
                                      "measured value (95% interval)"))
    for name in scalar_names(done):
        values = {_key(r.point.values): (_scalar(r, name), math.nan, math.nan) for r in done}
        drawn.append(_over_first_axis(axes, values, directory, "scalar-" + name.replace("/", "-"), name, name))
    return [path for path in drawn if path is not None]


def _over_first_axis(axes, values: dict, directory: Path, stem: str, title: str, ylabel: str) -> Path | None:
    """One figure: (value, low, high) per point over the first axis, a line per combination of the
    others' values; None where no point has a finite value."""
    from common import plots

    if all(math.isnan(v[0]) for v in values.values()):
        return None  # measured at no point: nothing to draw
    first, others = axes[0], axes[1:]
    fig, ax = plots.new_figure(width=5.0)
    ax = ax[0, 0]
    for rest in itertools.product(*(a.values for a in others)):
        label = ", ".join(f"{a.field}={v}" for a, v in zip(others, rest)) or None
        keys = [_key({first.field: x, **dict(zip((a.field for a in others), rest))}) for x in first.values]
        y, low, high = (list(column) for column in zip(*(values.get(key, _MISSING) for key in keys)))
        ax.errorbar(_positions(first.values), y,
                    yerr=[[max(v - lo, 0) if math.isfinite(lo) else 0 for v, lo in zip(y, low)],
                          [max(hi - v, 0) if math.isfinite(hi) else 0 for v, hi in zip(y, high)]],
                    marker="o", capsize=3, label=label)
    _axis(ax, first)
    ax.set_ylabel(ylabel)
    ax.set_title(_wrap(title), fontsize=8)
    if others:
        ax.legend()
    return plots.save(fig, directory, stem, x=_positions(first.values))


_MISSING = (math.nan, math.nan, math.nan)


def _scalar(result, name: str) -> float:
    """A point's scalar; NaN where absent or not finite (results.json writes NaN as null)."""
    value = result.scalars.get(name)
    return math.nan if value is None else float(value)


def _key(values: dict) -> tuple:
    return tuple(sorted(values.items()))


def _claim(result, statement: str) -> tuple[float, float, float]:
    """(value, low, high) of a claim at one point; NaN where it is absent or unmeasured."""
    claim = next((c for c in result.claims if c["statement"] == statement), None)
    if claim is None:
        return _MISSING
    interval = claim.get("interval") or [None, None]
    return tuple(math.nan if v is None else float(v) for v in (claim.get("value"), *interval))


def _positions(values: tuple) -> list:
    """Numbers where the axis is numeric, else 0, 1, 2, ... (choices)."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return list(values) if numeric else list(range(len(values)))


def _axis(ax, first) -> None:
    x = _positions(first.values)
    if x != list(first.values):
        ax.set_xticks(x, [str(v) for v in first.values])
    elif min(x) > 0 and max(x) / min(x) >= 10:
        ax.set_xscale("log")
        ax.set_xticks(x, [f"{v:g}" for v in x])  # the swept values, not log-axis minor labels that overlap
        ax.minorticks_off()
    ax.set_xlabel(first.field)


def _wrap(text: str, width: int = 70) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line][:3])
