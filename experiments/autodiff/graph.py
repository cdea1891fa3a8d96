"""The notes' computational graph by forward and reverse mode, and why summing over paths explodes while
either mode visits each edge once.

    python run.py ad-graph --preset quick
    python run.py ad-graph --preset paper     # wider and deeper graphs

Claims check what JAX's jvp and vjp return and cost: the notes' e = 6, de/da = 2, de/db = 5 by both modes; a
jvp and a vjp through random layered graphs against the chain rule summed over every path (float64); the
full gradient's XLA FLOPs per f growing as n by n jvps and flat by one vjp. Every derivative comes from an
`Autodiff` record, so a wrong jvp or vjp fails them (tests/experiments/test_ad_graph.py). Measurements:
`research.autodiff.graph_study`; design and notes: docs/notes/autodiff.md.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from common import plots, records
from common.config import require_at_least_one, require_distinct, require_numbers_representable
from common.experiment import Claim, Control, Results, near, scalars
from experiments.api import main
from research.autodiff import citations as C
from research.autodiff import graph as G
from research.autodiff import graph_measures as GM
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
    results.notes += GM.run_notes(layered, passes)
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


NOTES_AS_PAPER, PERTURBED_GRAPH = scalars(GM.NOTES_AS_PAPER), scalars(GM.PERTURBED_GRAPH)
FLOP_SLOPES, SWAPPED_SLOPES = scalars(GM.FLOP_SLOPES), scalars(GM.SWAPPED_SLOPES)
# each full-gradient mode: its claim, the paper's slope, and the other mode (its control)
SLOPE_CLAIMS = {
    "forward": (("forward mode's full gradient costs one pass per input: n jvps' FLOPs per f grow as n (log-log slope; "
                 "measured where their output is the gradient)"), 1.0, "reverse"),
    "reverse": (("reverse mode's full gradient costs one pass for all inputs: one vjp's FLOPs per f flat in n (log-log "
                 "slope; measured where its output is the gradient)"), 0.0, "forward")}


# Tolerances: the values are exact in float32 at these integers (1e-6 is far below the control's 1.5); a float64
# jvp or vjp of a linear graph agrees with the path sum to rounding, ~1e-16 of the sum of |path products| (the
# control misses the largest path's product, >= 1 / paths of it: 1e-5 at the paper's 100,000 enumerated paths), so
# 1e-10; the gradient slopes are 1 and 0 up to the fixed cost of f's reduction (0.15).
CLAIMS = [
    Claim(statement="the notes' graph: e = 6, de/da = 2, de/db = 5 by forward mode (a jvp per input) and by reverse mode "
                    "(one vjp) (largest error over both modes and the three values)",
          paper="6, 2, 5", measure=lambda r: GM.notes_worst(r.scalars), region=near(0.0, 1e-6),
          control=Control(name="the graph with d = b + 1.5 (7.5, 2.5, 5.5)", results=PERTURBED_GRAPH),
          passing=NOTES_AS_PAPER, baseline=_exact("notes/control/error"), fmt="{:.2e}", where=C.NOTES_GRAPH),
    *[Claim(statement=f"a {mode} through random layered graphs gives the chain rule summed over every path "
                      "(largest gap to the path sum, in units of the sum of |path products|, float64)",
            paper="equal", measure=_exact(f"layered/{mode}_max_gap"), region=near(0.0, 1e-10),
            control=Control(name="a path sum without its largest path", results=scalars(GM.path_gaps(0.05))),
            passing=scalars(GM.path_gaps(1e-16)), baseline=_exact("layered/control_min_gap"), fmt="{:.2e}",
            where=C.PATH_SUM)
      for mode in ("jvp", "vjp")],
    *[Claim(statement=statement, paper=f"{slope:g}", measure=lambda r, mode=mode: GM.checked_slope(r.scalars, mode),
            region=near(slope, 0.15),
            control=Control(name=f"{other} mode's FLOPs (slope {1 - slope:g})", results=SWAPPED_SLOPES),
            passing=FLOP_SLOPES, baseline=_exact(f"passes/{other}_slope"), fmt="{:.3f}", where=C.MODES)
      for mode, (statement, slope, other) in SLOPE_CLAIMS.items()],
]


if __name__ == "__main__":
    main(NAME)
