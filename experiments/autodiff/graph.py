"""The notes' computational graph by forward and reverse mode, and why summing over paths explodes while
either mode visits each edge once.

    python run.py ad-graph --preset quick
    python run.py ad-graph --preset paper     # wider and deeper graphs

Claims check what JAX's jvp and vjp return and cost: the notes' e = 6, de/da = 2, de/db = 5 by both modes; a
jvp and a vjp through random layered graphs against the chain rule summed over every path (float64); the
full gradient's XLA FLOPs per f growing as n by n jvps and flat by one vjp. Every derivative comes from an
`Autodiff` record, so a wrong jvp or vjp fails them (tests/experiments/test_ad_graph.py). Measurements:
`research.autodiff.graph_study`; design and notes: docs/claims/autodiff.md.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from common import plots, records, stats
from common.config import require_at_least_one, require_distinct, require_numbers_representable
from common.experiment import Claim, Control, Results, near, scalars
from experiments.api import main
from research.autodiff import graph as G
from research.autodiff import graph_study as S
from research.autodiff.graph_study import Counts, Layered, Passes

NAME = "ad-graph"
STUDY = "autodiff"
PAPER = "Notes on backpropagation; Baydin et al. 2018, Automatic differentiation in ML: a survey"
REPRODUCES = ("e = 6, de/da = 2, de/db = 5 by both modes; JAX's jvp and vjp give the path sum's derivative; "
              "the full gradient costs ~n f by n jvps, ~1 f by one vjp (XLA FLOPs)")


@dataclass(frozen=True)
class Config:
    """Pass counts on the notes' graph and on sums of many inputs; path and edge counts on layered graphs."""

    seeds: int = 3
    """Random edge labellings per layered graph on which path sum, forward and reverse must agree."""
    harness_inputs: tuple[int, ...] = (2, 4, 8, 16)
    """Numbers of scalar inputs of the function whose passes the harness counts (a table)."""
    input_counts: tuple[int, ...] = (8, 32, 128, 512)
    """Input sizes n of the vector function whose full gradient's FLOPs are counted."""
    widths: tuple[int, ...] = (2, 3, 4)
    """Widths w of the layered graphs."""
    max_depth: int = 8
    """Depths k = 1..max_depth."""
    max_enumerated_paths: int = 5000
    """The brute-force path sum runs only on graphs with at most this many paths."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_distinct(self, ('widths', 'input_counts'))
        require_at_least_one(self, ("seeds", "max_enumerated_paths", "widths", "input_counts"))
        if self.max_depth < 2:
            raise ValueError(f"max_depth must be at least 2 to fit FLOPs against edges (got {self.max_depth})")
        require_at_least_one(self, ("harness_inputs",))
        if len(self.input_counts) < 2:
            raise ValueError(f"input_counts needs two or more sizes to fit a slope (got {self.input_counts})")


PRESETS = {
    "quick": Config(max_depth=6),
    "paper": Config(seeds=5, input_counts=(8, 32, 128, 512, 2048), harness_inputs=(2, 4, 8, 16, 32, 64), widths=(2, 3, 4, 8), max_depth=12,
                    max_enumerated_paths=100_000),
}


class NotesError(NamedTuple):
    error: float  # max |(e, de/da, de/db) - (6, 2, 5)|


def run(config: Config, session) -> Results:
    return measure(config, G.JAX_AUTODIFF)


def measure(config: Config, autodiff: G.Autodiff) -> Results:
    """Every result of the run, with every derivative built from `autodiff`'s jvp and vjp."""
    results = Results()
    errors, rows = S.notes_graph_errors(autodiff)
    for key, error in errors.items():
        records.put(results, f"notes/{key}", NotesError(error))
    results.tables["The notes' graph e = (a + b)(b + 1) at a = 2, b = 1"] = rows
    results.tables["Passes the harness counts for the gradient of prod(x) + sum(x^2)"] = S.harness_rows(
        config.harness_inputs, autodiff)
    passes, rows = S.full_gradients(config.input_counts, autodiff)
    results.tables["XLA FLOPs of the full gradient of sum(tanh(x)^2) + (sum x)^2 by n jvps (forward) and one vjp "
                   "(reverse), and each output's largest error against the closed form, relative to its "
                   "largest entry"] = rows
    layered, counts, rows = S.layered_graphs(config.widths, config.max_depth, config.seeds,
                                             config.max_enumerated_paths, config.seed, autodiff)
    results.tables["Layered graphs: a jvp and a vjp (float64) against the path sum, and their XLA FLOPs against "
                   "paths and edges"] = rows
    for width, count in counts.items():
        records.put(results, f"layered/w{width}", count)
    records.put(results, "passes", passes)
    records.put(results, "layered", layered)
    results.notes.append(
        "Each mode's work is XLA's FLOP count of a compiled jvp / vjp through the graph (a table, not a claim: "
        "a dense matvec costs the same whatever its result). Fitted against the edge count at each width, the "
        f"jvp costs {layered.jvp_per_edge:.2f} FLOPs per edge (max/min over widths "
        f"{layered.jvp_per_edge_spread:.3f}) and the vjp {layered.vjp_per_edge:.2f} (spread "
        f"{layered.vjp_per_edge_spread:.3f}). The path sum's multiplications, fitted the same way, spread by "
        f"{layered.path_products_per_edge_spread:.3g}x across widths: they follow w^k, not edges.")
    results.notes.append(
        f"Full gradient of an n-input function: n jvps' FLOPs per f grow with slope {passes.forward_slope:.3f} in "
        f"n, one vjp's with slope {passes.reverse_slope:.3f}; their outputs match the closed form to "
        f"{passes.forward_gradient_error:.1e} and {passes.reverse_gradient_error:.1e} (relative, float32).")
    return results


def figures(results: Results, directory) -> None:
    fig, axes = plots.new_figure(ncols=2)
    ax = axes[0, 0]
    layered = records.get(results, "layered", Layered)
    for width in layered.widths:
        counts = records.get(results, f"layered/w{int(width)}", Counts)
        (line,) = ax.plot(layered.depth, counts.paths, "o-", label=f"paths, w={width}")
        ax.plot(layered.depth, counts.edges, "s--", color=line.get_color(), label=f"edges, w={width}")
    ax.set(yscale="log", xlabel="depth k", ylabel="count", title="paths w^k (solid) vs edges visited (dashed)")
    ax.legend(ncol=2)
    ax = axes[0, 1]
    passes = records.get(results, "passes", Passes)
    ax.plot(passes.inputs, passes.forward_flops_per_f, "o-", label="forward mode (jacfwd: n jvps)")
    ax.plot(passes.inputs, passes.reverse_flops_per_f, "s-", label="reverse mode (grad: one vjp)")
    ax.set(xscale="log", yscale="log", xlabel="inputs n", ylabel="XLA FLOPs / FLOPs of f",
           title="full gradient of sum(tanh(x)^2) + (sum x)^2")
    ax.legend()
    plots.save(fig, directory, "paths_and_passes", **results.arrays)


def _exact(key: str) -> Callable[[Results], float]:
    return lambda r: r.scalars[key]


def notes_worst(r: Results) -> float:
    """The larger of the two modes' errors on (e, de/da, de/db)."""
    return max(r.scalars["notes/forward/error"], r.scalars["notes/reverse/error"])


GRADIENT_TOLERANCE = 1e-4  # float32 relative error of a full gradient (rounding: ~1e-6)


def checked_slope(mode: str) -> Callable[[Results], stats.Measurement]:
    """The log-log slope of `mode`'s full-gradient FLOPs per f against n, measured only where its program's
    output is the gradient (a program that computes something else has no gradient cost to claim)."""
    def measure(r: Results) -> stats.Measurement:
        error = r.scalars[f"passes/{mode}_gradient_error"]
        if not error <= GRADIENT_TOLERANCE:
            return stats.Measurement(math.nan, None, f"its program does not compute the gradient (largest "
                                                     f"relative error {error:.3g} > {GRADIENT_TOLERANCE:g})")
        return stats.Measurement(r.scalars[f"passes/{mode}_slope"])

    return measure
NOTES_AS_PAPER = scalars({"notes/forward/error": 0.0, "notes/reverse/error": 0.0, "notes/control/error": 1.5})
PERTURBED_GRAPH = scalars({"notes/forward/error": 1.5, "notes/reverse/error": 1.5})
CORRECT_GRADIENTS = {"passes/forward_gradient_error": 1e-7, "passes/reverse_gradient_error": 1e-7}
FLOP_SLOPES = scalars({"passes/forward_slope": 1.0, "passes/reverse_slope": 0.0, **CORRECT_GRADIENTS})
SWAPPED_SLOPES = scalars({"passes/forward_slope": 0.0, "passes/reverse_slope": 1.0, **CORRECT_GRADIENTS})


def path_gaps(gap: float) -> Callable[[], Results]:
    return scalars({"layered/jvp_max_gap": gap, "layered/vjp_max_gap": gap, "layered/control_min_gap": 0.05})


# Tolerances: the values are exact in float32 at these integers (1e-6 is far below the control's 1.5); a float64
# jvp or vjp of a linear graph agrees with the path sum to rounding, ~1e-16 of the sum of |path products| (the
# control misses the largest path's product, >= 1 / paths of it: 1e-5 at the paper's 100,000 enumerated paths), so
# 1e-10; the gradient slopes are 1 and 0 up to the fixed cost of f's reduction (0.15).
CLAIMS = [
    Claim(statement="the notes' graph: e = 6, de/da = 2, de/db = 5 by forward mode (a jvp per input) and by reverse mode "
                    "(one vjp) (largest error over both modes and the three values)",
          paper="6, 2, 5", measure=notes_worst, region=near(0.0, 1e-6),
          control=Control(name="the graph with d = b + 1.5 (7.5, 2.5, 5.5)", results=PERTURBED_GRAPH),
          passing=NOTES_AS_PAPER, baseline=_exact("notes/control/error"), fmt="{:.2e}"),
    Claim(statement="a jvp through random layered graphs gives the chain rule summed over every path (largest gap to the "
                    "path sum, in units of the sum of |path products|, float64)",
          paper="equal", measure=_exact("layered/jvp_max_gap"), region=near(0.0, 1e-10),
          control=Control(name="a path sum without its largest path", results=path_gaps(0.05)),
          passing=path_gaps(1e-16), baseline=_exact("layered/control_min_gap"), fmt="{:.2e}"),
    Claim(statement="a vjp through random layered graphs gives the chain rule summed over every path (largest gap to the "
                    "path sum, in units of the sum of |path products|, float64)",
          paper="equal", measure=_exact("layered/vjp_max_gap"), region=near(0.0, 1e-10),
          control=Control(name="a path sum without its largest path", results=path_gaps(0.05)),
          passing=path_gaps(1e-16), baseline=_exact("layered/control_min_gap"), fmt="{:.2e}"),
    Claim(statement="forward mode's full gradient costs one pass per input: n jvps' FLOPs per f grow as n (log-log slope; "
                    "measured where their output is the gradient)",
          paper="1", measure=checked_slope("forward"), region=near(1.0, 0.15),
          control=Control(name="reverse mode's FLOPs (slope 0)", results=SWAPPED_SLOPES), passing=FLOP_SLOPES,
          baseline=_exact("passes/reverse_slope"), fmt="{:.3f}"),
    Claim(statement="reverse mode's full gradient costs one pass for all inputs: one vjp's FLOPs per f flat in n (log-log "
                    "slope; measured where its output is the gradient)",
          paper="0", measure=checked_slope("reverse"), region=near(0.0, 0.15),
          control=Control(name="forward mode's FLOPs (slope 1)", results=SWAPPED_SLOPES), passing=FLOP_SLOPES,
          baseline=_exact("passes/forward_slope"), fmt="{:.3f}"),
]


if __name__ == "__main__":
    main(NAME)
