"""The notes' computational graph by forward and reverse mode, and why summing
over paths explodes while either mode visits each edge once.

    python run.py ad-graph --preset quick     # ~10 s on the shared 2-core CPU
    python run.py ad-graph --preset paper     # wider and deeper graphs

The notes (after Olah, "Calculus on Computational Graphs"): c = a + b,
d = b + 1, e = c * d at a = 2, b = 1 gives e = 6, de/da = 2, de/db = 5.
Forward mode gives one input's derivative per pass, reverse mode all inputs'
in one pass. Between X and Z through Y with 3 edges on each side there are
3 x 3 = 9 paths; on a layered graph of width w and depth k there are w^k,
while forward and reverse accumulation each visit the 2w + (k-1)w^2 edges once.
"""

import functools
import operator
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from common import plots
from common.bench import compiled_costs
from common.config import require_at_least_one
from common.experiment import Claim, Results
from experiments.api import main
from research import autodiff_graph as G

NAME = "ad-graph"
STUDY = "autodiff"
PAPER = "Notes on backpropagation; Baydin et al. 2018, Automatic differentiation in ML: a survey"
REPRODUCES = ("e = 6, de/da = 2, de/db = 5; forward mode needs one pass per input, reverse one; "
              "w^k paths against 2w + (k-1)w^2 edges visited once")
QUICK_SECONDS = 10


@dataclass(frozen=True)
class Config:
    """Pass counts on the notes' graph and on sums of many inputs; path and edge counts on layered graphs."""

    seeds: int = 3
    """Random edge labellings per layered graph on which path sum, forward and reverse must agree."""
    input_counts: tuple[int, ...] = (2, 4, 8, 16)
    """Numbers of inputs of the many-input function whose passes are counted."""
    widths: tuple[int, ...] = (2, 3, 4)
    """Widths w of the layered graphs."""
    max_depth: int = 8
    """Depths k = 1..max_depth."""
    max_enumerated_paths: int = 5000
    """The brute-force path sum runs only on graphs with at most this many paths."""
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "max_enumerated_paths"))
        if self.max_depth < 2:
            raise ValueError(f"max_depth must be at least 2 to fit FLOPs against edges (got {self.max_depth})")
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f"widths must be positive (got {self.widths})")
        if not self.input_counts or min(self.input_counts) < 1:
            raise ValueError(f"input_counts must be positive (got {self.input_counts})")


PRESETS = {
    "quick": Config(max_depth=6),
    "paper": Config(seeds=5, input_counts=(2, 4, 8, 16, 32, 64), widths=(2, 3, 4, 8), max_depth=12,
                    max_enumerated_paths=100_000),
}


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
        results.scalars[f"notes/{key}/gradient_error"] = float(
            max(abs(r.gradient[0] - 2.0), abs(r.gradient[1] - 5.0)))
    results.tables["The notes' graph e = (a + b)(b + 1) at a = 2, b = 1"] = rows


def many_inputs(config: Config, results: Results) -> None:
    """f(x_1..x_n) = prod(x) + sum(x^2): passes each mode needs for the full gradient."""

    def f(*xs):  # scalar operations only: eager dispatch compiles each once
        return functools.reduce(operator.mul, xs) + sum(x * x for x in xs)

    rows, forward_per_input, reverse_passes = [], [], []
    for n in config.input_counts:
        primals = tuple(jnp.array(1.0 + 0.01 * i) for i in range(n))
        forward, reverse = G.forward_mode(f, primals), G.reverse_mode(f, primals)
        gap = float(np.max(np.abs(np.array(forward.gradient) - np.array(reverse.gradient))))
        rows.append({"inputs": n, "forward passes": forward.forward_passes,
                     "reverse forward passes": reverse.forward_passes,
                     "reverse backward passes": reverse.backward_passes, "max abs(fwd - rev)": gap})
        forward_per_input.append(forward.forward_passes / n)
        reverse_passes.append(reverse.forward_passes + reverse.backward_passes)
    results.tables["Passes for the gradient of prod(x) + sum(x^2)"] = rows
    results.scalars["passes/forward_per_input_max_deviation"] = float(np.max(np.abs(np.array(forward_per_input) - 1)))
    results.scalars["passes/reverse_total_max"] = float(max(reverse_passes))
    results.arrays["passes/inputs"] = np.array(config.input_counts)
    results.arrays["passes/forward"] = np.array(config.input_counts) * np.array(forward_per_input)
    results.arrays["passes/reverse"] = np.array(reverse_passes, float)


def check_accumulations(config: Config, width: int, depth: int) -> tuple[float, float, bool]:
    """On `seeds` random labellings: the largest relative gap between path sum
    (where enumerable), forward and reverse accumulation; the largest
    |edges visited / edges - 1|; whether the paths were enumerated."""
    gap, visits = 0.0, 0.0
    enumerated = G.path_count(width, depth) <= config.max_enumerated_paths
    for s in range(config.seeds):
        key = jax.random.fold_in(jax.random.key(config.seed), width * 1000 + depth * 10 + s)
        weights = [np.asarray(w, np.float64) for w in G.layered_graph_weights(key, width, depth)]
        fwd, rev = G.forward_accumulation(weights), G.reverse_accumulation(weights)
        scale = max(abs(fwd.derivative), 1e-300)
        gap = max(gap, abs(fwd.derivative - rev.derivative) / scale)
        if enumerated:
            gap = max(gap, abs(G.path_sum(weights).derivative - fwd.derivative) / scale)
        for mode in (fwd, rev):
            visits = max(visits, abs(mode.items_visited / G.edge_count(width, depth) - 1))
    return gap, visits, enumerated


def layered_graphs(config: Config, results: Results) -> None:
    depths = np.arange(1, config.max_depth + 1)
    jvp = jax.jit(lambda ws, x, t: jax.jvp(lambda y: G.layered_graph(ws, y), (x,), (t,)))
    vjp = jax.jit(lambda ws, x, u: jax.vjp(lambda y: G.layered_graph(ws, y), x)[1](u))
    rows, worst_gap, visit_error, slopes = [], 0.0, 0.0, {"jvp": [], "vjp": []}
    for width in config.widths:
        paths = np.array([G.path_count(width, int(k)) for k in depths], float)
        edges = np.array([G.edge_count(width, int(k)) for k in depths], float)
        results.arrays[f"layered/w{width}/paths"] = paths
        results.arrays[f"layered/w{width}/edges"] = edges
        flops = {"jvp": [], "vjp": []}
        for k in depths:
            k = int(k)
            gap, visits, enumerated = check_accumulations(config, width, k)
            worst_gap, visit_error = max(worst_gap, gap), max(visit_error, visits)
            weights = G.layered_graph_weights(jax.random.key(config.seed), width, k)
            one = jnp.array(1.0)
            jvp_flops = compiled_costs(jvp, weights, one, 0.5 * one)["flops"]
            vjp_flops = compiled_costs(vjp, weights, one, 0.5 * one)["flops"]
            flops["jvp"].append(jvp_flops)
            flops["vjp"].append(vjp_flops)
            rows.append({"width": width, "depth": k, "paths w^k": G.path_count(width, k),
                         "edges": G.edge_count(width, k), "path products (mults)": (k + 1) * G.path_count(width, k),
                         "XLA FLOPs jvp": jvp_flops, "XLA FLOPs vjp": vjp_flops,
                         "path sum checked": "yes" if enumerated else "too many paths"})
        for mode, values in flops.items():  # FLOPs against edges at this width: the slope is FLOPs per edge
            slopes[mode].append(np.polyfit(edges, values, 1)[0])
    results.tables["Layered graphs: paths against edges"] = rows
    results.scalars["layered/max_relative_gap"] = worst_gap
    results.scalars["layered/edge_visit_error"] = visit_error
    for mode, values in slopes.items():
        results.scalars[f"layered/{mode}_flops_per_edge"] = float(np.mean(values))
        results.scalars[f"layered/{mode}_flops_per_edge_spread"] = float(max(values) / min(values))
    widest, deepest = max(config.widths), config.max_depth
    results.scalars["layered/paths_over_edges_growth"] = (
        G.path_count(widest, deepest) / G.edge_count(widest, deepest)) / (
        G.path_count(widest, 2) / G.edge_count(widest, 2))
    results.arrays["layered/depth"] = depths
    results.notes.append(
        "Each mode's work is counted twice: edges visited by the accumulation loops, and XLA's FLOP count of a "
        "compiled jvp / vjp through the graph. Fitted against the edge count at each width, the jvp costs "
        f"{results.scalars['layered/jvp_flops_per_edge']:.2f} FLOPs per edge (a multiply-add for the primal and "
        f"one for the tangent) and the vjp {results.scalars['layered/vjp_flops_per_edge']:.2f}: the graph is "
        "linear, so its pullback needs no forward values and XLA drops the unused primal pass. Both follow the "
        "edges, not the w^k paths.")


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
    ax.plot(inputs, results.arrays["passes/forward"], "o-", label="forward mode (jvp per input)")
    ax.plot(inputs, results.arrays["passes/reverse"], "s-", label="reverse mode (forward + backward)")
    ax.set(xlabel="inputs n", ylabel="passes", title="passes for a full gradient")
    ax.legend()
    plots.save(fig, directory, "paths_and_passes", **results.arrays)


CLAIMS = [
    Claim("e = 6 at a = 2, b = 1 (both modes)", "6",
          lambda r: max(r.scalars["notes/forward/e"], r.scalars["notes/reverse/e"]), lambda v: v == 6.0),
    Claim("de/da = 2, de/db = 5 (max error over both modes)", "0",
          lambda r: max(r.scalars["notes/forward/gradient_error"], r.scalars["notes/reverse/gradient_error"]),
          lambda v: v == 0.0),
    Claim("forward mode needs one pass per input (max abs(passes / inputs - 1))", "0",
          lambda r: r.scalars["passes/forward_per_input_max_deviation"], lambda v: v == 0.0),
    Claim("reverse mode needs one forward and one backward pass for all inputs", "2",
          lambda r: r.scalars["passes/reverse_total_max"], lambda v: v == 2.0, fmt="{:.0f}"),
    Claim("path sum, forward and reverse accumulation give the same derivative (max relative gap)", "0",
          lambda r: r.scalars["layered/max_relative_gap"], lambda v: v < 1e-10, fmt="{:.2e}"),
    Claim("each mode visits every edge exactly once", "0",
          lambda r: r.scalars["layered/edge_visit_error"], lambda v: v == 0.0),
    Claim("XLA's jvp FLOPs grow by a fixed amount per edge while paths grow as w^k "
          "(max/min of the per-width fitted FLOPs per edge)", "1",
          lambda r: r.scalars["layered/jvp_flops_per_edge_spread"], lambda v: v < 1.1, fmt="{:.3f}"),
    Claim("paths outgrow edges (paths/edges at the deepest graph over paths/edges at depth 2, widest width)",
          "grows as w^(k-2)", lambda r: r.scalars["layered/paths_over_edges_growth"], lambda v: v > 1.0,
          fmt="{:.3g}"),
]


if __name__ == "__main__":
    main(NAME)
