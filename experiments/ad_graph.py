"""The notes' computational graph by forward and reverse mode, and why summing
over paths explodes while either mode visits each edge once.

    python run.py ad-graph --preset quick     # ~20 s on the shared 2-core CPU
    python run.py ad-graph --preset paper     # wider and deeper graphs

The notes (after Olah, "Calculus on Computational Graphs"): c = a + b,
d = b + 1, e = c * d at a = 2, b = 1 gives e = 6, de/da = 2, de/db = 5.
Forward mode gives one input's derivative per pass, reverse mode all inputs'
in one pass. Between X and Z through Y with 3 edges on each side there are
3 x 3 = 9 paths; on a layered graph of width w and depth k there are w^k,
while forward and reverse accumulation each visit the 2w + (k-1)w^2 edges once.

Claims are checks that could fail: the derivative values (against a graph one
constant away), the three accumulations' agreement (against a path sum one
path short), XLA's FLOPs per edge constant across widths (against the path
sum's multiplications), and the full gradient's FLOPs per f growing as n by
forward mode and flat by reverse (each against the other mode). The pass
counts of the harness and the path/edge arithmetic hold by construction:
they are tables here and unit tests in tests/.
"""

import functools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from common import plots
from common.bench import compiled_costs
from common.config import require_at_least_one, require_distinct, require_numbers_representable
from common.experiment import Claim, Control, Results, near, scalars
from experiments.api import main
from research import autodiff_graph as G

NAME = "ad-graph"
STUDY = "autodiff"
PAPER = "Notes on backpropagation; Baydin et al. 2018, Automatic differentiation in ML: a survey"
REPRODUCES = ("e = 6, de/da = 2, de/db = 5; path sum = forward = reverse accumulation; XLA FLOPs follow the "
              "2w + (k-1)w^2 edges, not the w^k paths; the full gradient costs ~n f by forward mode, ~1 f by reverse")


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


def perturbed_notes_graph(a: jax.Array, b: jax.Array) -> jax.Array:
    """The negative control of the notes' values: d = b + 1.5 instead of b + 1
    (e = 7.5, de/da = 2.5, de/db = 5.5), a graph one constant away."""
    return (a + b) * (b + 1.5)


def notes_graph(results: Results) -> None:
    a, b = jnp.array(2.0), jnp.array(1.0)
    rows = []
    for name, mode in (("forward (jvp per input)", G.forward_mode), ("reverse (one vjp)", G.reverse_mode)):
        r = mode(G.notes_graph, (a, b))
        rows.append({"mode": name, "e": float(r.value), "de/da": float(r.gradient[0]),
                     "de/db": float(r.gradient[1]), "forward passes": r.forward_passes,
                     "backward passes": r.backward_passes})
        key = "forward" if r.backward_passes == 0 else "reverse"
        results.scalars[f"notes/{key}/e"] = float(r.value)
        results.scalars[f"notes/{key}/gradient_error"] = gradient_error(r.gradient)
    control = G.reverse_mode(perturbed_notes_graph, (a, b))
    results.scalars["notes/control/e"] = float(control.value)
    results.scalars["notes/control/gradient_error"] = gradient_error(control.gradient)
    rows.append({"mode": "control: d = b + 1.5 (reverse)", "e": float(control.value),
                 "de/da": float(control.gradient[0]), "de/db": float(control.gradient[1]),
                 "forward passes": control.forward_passes, "backward passes": control.backward_passes})
    results.tables["The notes' graph e = (a + b)(b + 1) at a = 2, b = 1"] = rows


def gradient_error(gradient) -> float:
    """max |(de/da, de/db) - (2, 5)|."""
    return float(max(abs(gradient[0] - 2.0), abs(gradient[1] - 5.0)))


def many_inputs(config: Config, results: Results) -> None:
    """The harness's pass counts for the gradient of prod(x) + sum(x^2) (a table: they
    hold by construction, tests check them), and XLA's FLOPs of the full gradient of
    f(x) = sum(tanh(x)^2) + (sum x)^2 by forward mode (jacfwd: n jvps) and by reverse
    mode (grad: one vjp), per FLOP of f: n against a constant."""

    def f(*xs):  # scalar operations only: eager dispatch compiles each once
        return functools.reduce(operator.mul, xs) + sum(x * x for x in xs)

    rows = []
    for n in config.harness_inputs:
        primals = tuple(jnp.array(1.0 + 0.01 * i) for i in range(n))
        forward, reverse = G.forward_mode(f, primals), G.reverse_mode(f, primals)
        gap = float(np.max(np.abs(np.array(forward.gradient) - np.array(reverse.gradient))))
        rows.append({"inputs": n, "forward passes": forward.forward_passes,
                     "reverse forward passes": reverse.forward_passes,
                     "reverse backward passes": reverse.backward_passes, "max abs(fwd - rev)": gap})
    results.tables["Passes the harness counts for the gradient of prod(x) + sum(x^2)"] = rows

    per_f = {"forward": [], "reverse": []}
    flop_rows = []
    for n in config.input_counts:
        x = jnp.linspace(1.0, 1.1, n)
        f_flops = compiled_costs(G.many_input_function, x)["flops"]
        fwd = compiled_costs(jax.jacfwd(G.many_input_function), x)["flops"]
        rev = compiled_costs(jax.grad(G.many_input_function), x)["flops"]
        per_f["forward"].append(fwd / f_flops)
        per_f["reverse"].append(rev / f_flops)
        flop_rows.append({"inputs n": n, "f FLOPs": f_flops, "jacfwd FLOPs": fwd, "grad FLOPs": rev,
                          "jacfwd / f": fwd / f_flops, "grad / f": rev / f_flops})
    results.tables["XLA FLOPs of the full gradient of sum(tanh(x)^2) + (sum x)^2"] = flop_rows
    inputs = np.array(config.input_counts, float)
    results.arrays["passes/inputs"] = inputs
    for mode, values in per_f.items():
        results.arrays[f"passes/{mode}_flops_per_f"] = np.array(values)
        results.scalars[f"passes/{mode}_slope"] = log_slope(inputs, np.array(values))


def log_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log y against log x: 1 for y ~ x, 0 for a constant."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


@dataclass(frozen=True)
class Accuracy:
    """How far the three accumulations are apart on one graph shape."""

    gap: float  # largest relative gap between path sum, forward and reverse
    control_gap: float  # smallest relative gap of the one-path-short sum (NaN: not enumerated)
    enumerated: bool


def check_accumulations(config: Config, width: int, depth: int) -> Accuracy:
    """On `seeds` random labellings: the largest relative gap between the path sum
    (where enumerable), forward and reverse accumulation, and the same gap for a
    path sum that leaves out one path (the control)."""
    gap, control_gap = 0.0, math.nan
    enumerated = G.path_count(width, depth) <= config.max_enumerated_paths
    for s in range(config.seeds):
        key = jax.random.fold_in(jax.random.key(config.seed), width * 1000 + depth * 10 + s)
        weights = [np.asarray(w, np.float64) for w in G.layered_graph_weights(key, width, depth)]
        fwd, rev = G.forward_accumulation(weights), G.reverse_accumulation(weights)
        scale = max(abs(fwd.derivative), 1e-300)
        gap = max(gap, abs(fwd.derivative - rev.derivative) / scale)
        if enumerated:
            gap = max(gap, abs(G.path_sum(weights).derivative - fwd.derivative) / scale)
            if depth >= 2:  # a graph with at least two paths
                missing = abs(G.path_sum(weights, leave_out_last=True).derivative - fwd.derivative) / scale
                control_gap = missing if math.isnan(control_gap) else min(control_gap, missing)
    return Accuracy(gap, control_gap, enumerated)


def layered_graphs(config: Config, results: Results) -> None:
    depths = np.arange(1, config.max_depth + 1)
    jvp = jax.jit(lambda ws, x, t: jax.jvp(lambda y: G.layered_graph(ws, y), (x,), (t,)))
    vjp = jax.jit(lambda ws, x, u: jax.vjp(lambda y: G.layered_graph(ws, y), x)[1](u))
    rows, worst_gap, control_gaps = [], 0.0, []
    slopes = {"jvp": [], "vjp": [], "path products": []}
    for width in config.widths:
        paths = np.array([G.path_count(width, int(k)) for k in depths], float)
        edges = np.array([G.edge_count(width, int(k)) for k in depths], float)
        results.arrays[f"layered/w{width}/paths"] = paths
        results.arrays[f"layered/w{width}/edges"] = edges
        costs = {"jvp": [], "vjp": [], "path products": []}
        for k in depths:
            k = int(k)
            accuracy = check_accumulations(config, width, k)
            worst_gap = max(worst_gap, accuracy.gap)
            if not math.isnan(accuracy.control_gap):
                control_gaps.append(accuracy.control_gap)
            weights = G.layered_graph_weights(jax.random.key(config.seed), width, k)
            one = jnp.array(1.0)
            costs["jvp"].append(compiled_costs(jvp, weights, one, 0.5 * one)["flops"])
            costs["vjp"].append(compiled_costs(vjp, weights, one, 0.5 * one)["flops"])
            costs["path products"].append((k + 1) * G.path_count(width, k))
            rows.append({"width": width, "depth": k, "paths w^k": G.path_count(width, k),
                         "edges": G.edge_count(width, k), "path products (mults)": costs["path products"][-1],
                         "XLA FLOPs jvp": costs["jvp"][-1], "XLA FLOPs vjp": costs["vjp"][-1],
                         "path sum checked": "yes" if accuracy.enumerated else "too many paths"})
        for mode, values in costs.items():  # cost against edges at this width: the slope is cost per edge
            slopes[mode].append(np.polyfit(edges, np.asarray(values, float), 1)[0])
    results.tables["Layered graphs: paths against edges"] = rows
    results.scalars["layered/max_relative_gap"] = worst_gap
    results.scalars["layered/control_min_relative_gap"] = float(min(control_gaps)) if control_gaps else math.nan
    for mode, values in slopes.items():
        key = mode.replace(" ", "_")
        results.scalars[f"layered/{key}_per_edge"] = float(np.mean(values))
        results.scalars[f"layered/{key}_per_edge_spread"] = float(max(values) / min(values))
    results.arrays["layered/depth"] = depths
    results.notes.append(
        "Each mode's work is XLA's FLOP count of a compiled jvp / vjp through the graph. Fitted against the edge "
        f"count at each width, the jvp costs {results.scalars['layered/jvp_per_edge']:.2f} FLOPs per edge (a "
        "multiply-add for the primal and one for the tangent; max/min over widths "
        f"{results.scalars['layered/jvp_per_edge_spread']:.3f}) and the vjp "
        f"{results.scalars['layered/vjp_per_edge']:.2f} (spread {results.scalars['layered/vjp_per_edge_spread']:.3f}"
        "): the graph is linear, so its pullback needs no forward values and XLA drops the unused primal pass. "
        "The path sum's multiplications, fitted the same way, spread by "
        f"{results.scalars['layered/path_products_per_edge_spread']:.3g}x across widths: they follow w^k, not edges.")
    results.notes.append(
        f"Full gradient of an n-input function: jacfwd/f FLOPs grow with slope "
        f"{results.scalars['passes/forward_slope']:.3f} in n (one jvp per input), grad/f with slope "
        f"{results.scalars['passes/reverse_slope']:.3f} (one vjp for all inputs).")


def run(config: Config, session) -> Results:
    results = Results()
    notes_graph(results)
    many_inputs(config, results)
    layered_graphs(config, results)
    return results


def figures(results: Results, directory) -> None:
    fig, axes = plots.new_figure(ncols=2)
    ax = axes[0, 0]
    depth = results.arrays["layered/depth"]
    widths = sorted(int(k.split("/")[1][1:]) for k in results.arrays if k.endswith("/paths"))
    for width in widths:
        (line,) = ax.plot(depth, results.arrays[f"layered/w{width}/paths"], "o-", label=f"paths, w={width}")
        ax.plot(depth, results.arrays[f"layered/w{width}/edges"], "s--", color=line.get_color(),
                label=f"edges, w={width}")
    ax.set(yscale="log", xlabel="depth k", ylabel="count", title="paths w^k (solid) vs edges visited (dashed)")
    ax.legend(ncol=2)
    ax = axes[0, 1]
    inputs = results.arrays["passes/inputs"]
    ax.plot(inputs, results.arrays["passes/forward_flops_per_f"], "o-", label="forward mode (jacfwd: n jvps)")
    ax.plot(inputs, results.arrays["passes/reverse_flops_per_f"], "s-", label="reverse mode (grad: one vjp)")
    ax.set(xscale="log", yscale="log", xlabel="inputs n", ylabel="XLA FLOPs / FLOPs of f",
           title="full gradient of sum(tanh(x)^2) + (sum x)^2")
    ax.legend()
    plots.save(fig, directory, "paths_and_passes", **results.arrays)


def _exact(key: str) -> Callable[[Results], float]:
    return lambda r: r.scalars[key]


def _worst_e(r: Results) -> float:
    """The mode's e farthest from 6."""
    return max((r.scalars["notes/forward/e"], r.scalars["notes/reverse/e"]), key=lambda e: abs(e - 6.0))


NOTES_AS_PAPER = scalars({"notes/forward/e": 6.0, "notes/reverse/e": 6.0, "notes/forward/gradient_error": 0.0,
                          "notes/reverse/gradient_error": 0.0, "notes/control/e": 7.5,
                          "notes/control/gradient_error": 0.5})
PERTURBED_GRAPH = scalars({"notes/forward/e": 7.5, "notes/reverse/e": 7.5, "notes/forward/gradient_error": 0.5,
                           "notes/reverse/gradient_error": 0.5})
FLOP_SLOPES = scalars({"passes/forward_slope": 1.0, "passes/reverse_slope": 0.0})
SWAPPED_SLOPES = scalars({"passes/forward_slope": 0.0, "passes/reverse_slope": 1.0})

# Tolerances: the values are exact in float32 at these integers (1e-6 is far
# below the control's 0.5); the accumulations agree to rounding in float64
# (the control misses one path's product, >= 1e-6 relative at these sizes);
# FLOPs per edge are counts (10% allows XLA's fixed overhead of a few FLOPs at
# small widths; the path products spread by w^k / edges, 2x and more); the
# gradient slopes are 1 and 0 up to the fixed cost of f's reduction (0.15).
CLAIMS = [
    Claim("e = 6 at a = 2, b = 1 (both modes; the one farther from 6)", "6", _worst_e, near(6.0, 1e-6),
          Control("the graph with d = b + 1.5 (e = 7.5)", PERTURBED_GRAPH), NOTES_AS_PAPER,
          baseline=_exact("notes/control/e")),
    Claim("de/da = 2, de/db = 5 (max error over both modes)", "0",
          lambda r: max(r.scalars["notes/forward/gradient_error"], r.scalars["notes/reverse/gradient_error"]),
          near(0.0, 1e-6), Control("the graph with d = b + 1.5 (2.5, 5.5)", PERTURBED_GRAPH), NOTES_AS_PAPER,
          baseline=_exact("notes/control/gradient_error"), fmt="{:.2e}"),
    Claim("path sum, forward and reverse accumulation give the same derivative (max relative gap, float64)", "0",
          _exact("layered/max_relative_gap"), near(0.0, 1e-10),
          Control("a path sum that leaves out one path",
                  scalars({"layered/max_relative_gap": 0.05, "layered/control_min_relative_gap": 0.05})),
          scalars({"layered/max_relative_gap": 1e-15, "layered/control_min_relative_gap": 0.05}),
          baseline=_exact("layered/control_min_relative_gap"), fmt="{:.2e}"),
    Claim("XLA's jvp FLOPs grow by a fixed amount per edge, whatever the paths "
          "(max/min over widths of the fitted FLOPs per edge)", "1",
          _exact("layered/jvp_per_edge_spread"), near(1.0, 0.1),
          Control("the path sum's multiplications (k + 1) w^k",
                  scalars({"layered/jvp_per_edge_spread": 3.0, "layered/path_products_per_edge_spread": 3.0})),
          scalars({"layered/jvp_per_edge_spread": 1.0, "layered/path_products_per_edge_spread": 3.0}),
          baseline=_exact("layered/path_products_per_edge_spread"), fmt="{:.3f}"),
    Claim("XLA's vjp FLOPs grow by a fixed amount per edge (max/min over widths of the fitted FLOPs per edge)", "1",
          _exact("layered/vjp_per_edge_spread"), near(1.0, 0.1),
          Control("the path sum's multiplications (k + 1) w^k",
                  scalars({"layered/vjp_per_edge_spread": 3.0, "layered/path_products_per_edge_spread": 3.0})),
          scalars({"layered/vjp_per_edge_spread": 1.0, "layered/path_products_per_edge_spread": 3.0}),
          baseline=_exact("layered/path_products_per_edge_spread"), fmt="{:.3f}"),
    Claim("forward mode's full gradient costs one pass per input: jacfwd/f FLOPs grow as n (log-log slope)", "1",
          _exact("passes/forward_slope"), near(1.0, 0.15),
          Control("reverse mode's FLOPs (slope 0)", SWAPPED_SLOPES), FLOP_SLOPES,
          baseline=_exact("passes/reverse_slope"), fmt="{:.3f}"),
    Claim("reverse mode's full gradient costs one pass for all inputs: grad/f FLOPs flat in n (log-log slope)", "0",
          _exact("passes/reverse_slope"), near(0.0, 0.15),
          Control("forward mode's FLOPs (slope 1)", SWAPPED_SLOPES), FLOP_SLOPES,
          baseline=_exact("passes/forward_slope"), fmt="{:.3f}"),
]


if __name__ == "__main__":
    main(NAME)
