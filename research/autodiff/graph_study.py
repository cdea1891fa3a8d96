"""What JAX's jvp and vjp return and cost on the graphs of `research.autodiff.graph`: the full gradient of an
n-input function by n jvps and by one vjp (XLA FLOPs per f, error against the closed form), and a jvp and a
vjp through random layered graphs against the chain rule summed over every path (float64), with their XLA
FLOPs against the edge count. Every derivative comes from an `Autodiff` record."""

import functools
import math
import operator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from research.autodiff import graph as G
from research.autodiff.costs import compiled_with_flops
from research.autodiff.fits import log_slope


class Passes(NamedTuple):
    """The full gradient of an n-input function by n jvps (forward) and one vjp (reverse)."""

    inputs: np.ndarray  # n
    forward_flops_per_f: np.ndarray
    reverse_flops_per_f: np.ndarray
    forward_slope: float  # log-log slope of FLOPs per f against n
    reverse_slope: float
    forward_gradient_error: float  # largest error against the closed form, relative to its largest entry
    reverse_gradient_error: float


class Counts(NamedTuple):
    paths: np.ndarray  # per depth
    edges: np.ndarray


class Layered(NamedTuple):
    """A jvp and a vjp through random layered graphs against the chain rule (float64), and their XLA FLOPs."""

    depth: np.ndarray
    widths: np.ndarray
    jvp_max_gap: float  # in units of the sum of |path products|
    vjp_max_gap: float
    control_min_gap: float  # the path sum one path short
    jvp_per_edge: float  # FLOPs fitted against edges, the mean over widths
    jvp_per_edge_spread: float  # and max / min over widths
    vjp_per_edge: float
    vjp_per_edge_spread: float
    path_products_per_edge: float
    path_products_per_edge_spread: float


FULL_GRADIENTS = {"forward": G.full_gradient_by_jvps, "reverse": G.full_gradient_by_vjp}


def full_gradients(input_counts, autodiff: G.Autodiff) -> tuple[Passes, list[dict]]:
    """The full gradient of f(x) = sum(tanh(x)^2) + (sum x)^2 by each mode: its output against the closed
    form, and its XLA FLOPs per FLOP of f (n against a constant); and a table row per n."""
    per_f, errors, rows = {mode: [] for mode in FULL_GRADIENTS}, {mode: 0.0 for mode in FULL_GRADIENTS}, []
    for n in input_counts:
        x = jax.device_put(np.linspace(1.0, 1.1, n, dtype=np.float32))
        exact = G.many_input_gradient(np.asarray(x))
        f_flops = compiled_with_flops(G.many_input_function, x)[1]
        row = {"inputs n": n, "f FLOPs": f_flops}
        for mode, build in FULL_GRADIENTS.items():
            program, flops = compiled_with_flops(build(G.many_input_function, autodiff), x)
            error = float(np.max(np.abs(np.asarray(program(x), np.float64) - exact)) / np.max(np.abs(exact)))
            errors[mode] = max(errors[mode], error)
            per_f[mode].append(flops / f_flops)
            row |= {f"{mode} FLOPs": flops, f"{mode} / f": flops / f_flops, f"{mode} max rel. error": error}
        rows.append(row)
    inputs = np.array(input_counts, float)
    return Passes(inputs, np.array(per_f["forward"]), np.array(per_f["reverse"]),
                  log_slope(inputs, per_f["forward"]), log_slope(inputs, per_f["reverse"]), errors["forward"],
                  errors["reverse"]), rows


# each program returns its derivative first; the jvp also its primal output, which it computes alongside
LAYERED_MODES = {
    "jvp": lambda autodiff: lambda ws, x, t: autodiff.jvp(lambda y: G.layered_graph(ws, y), (x,), (t,))[::-1],
    "vjp": lambda autodiff: lambda ws, x, u: (autodiff.vjp(lambda y: G.layered_graph(ws, y), x)[1](u)[0],),
}


def layered_graph_row(width: int, k: int, seeds: int, max_enumerated_paths: int, rng: np.random.Generator,
                      autodiff: G.Autodiff) -> tuple[dict, list[float]]:
    """`seeds` random labellings of one layered graph through each mode's compiled program against the chain
    rule: the table row (each mode's FLOPs and largest gap) and the control's gaps (one path short). float64."""
    enumerated = G.path_count(width, k) <= max_enumerated_paths
    labellings = [G.layered_graph_weights(rng, width, k) for _ in range(seeds)]
    references = [G.chain_rule_reference(weights, enumerated) for weights in labellings]
    one = jnp.array(1.0, jnp.float64)
    row = {"width": width, "depth": k, "paths w^k": G.path_count(width, k), "edges": G.edge_count(width, k),
           "path products (mults)": (k + 1) * G.path_count(width, k)}
    for mode, build in LAYERED_MODES.items():
        program, flops = compiled_with_flops(build(autodiff), labellings[0], one, one)
        row[f"XLA FLOPs {mode}"] = flops
        row[f"{mode}: max gap / sum |path products|"] = max(
            abs(float(program(weights, one, one)[0]) - ref.derivative) / ref.scale
            for weights, ref in zip(labellings, references))
    row["against"] = "path sum" if enumerated else "forward accumulation (too many paths)"
    shorts = [abs(ref.one_path_short - ref.derivative) / ref.scale for ref in references]
    return row, shorts if enumerated and G.path_count(width, k) > 1 else []


PER_EDGE_COLUMNS = {"jvp": "XLA FLOPs jvp", "vjp": "XLA FLOPs vjp", "path products": "path products (mults)"}


def layered_graphs(widths, max_depth: int, seeds: int, max_enumerated_paths: int, seed: int,
                   autodiff: G.Autodiff) -> tuple[Layered, dict[int, Counts], list[dict]]:
    """Every width at depths 1..max_depth: the summary, each width's path and edge counts, the table rows."""
    depths = np.arange(1, max_depth + 1)
    rng = np.random.default_rng(seed)
    rows, counts, control_gaps, per_edge = [], {}, [], {mode: [] for mode in PER_EDGE_COLUMNS}
    with jax.enable_x64(True):
        for width in widths:
            counts[width] = Counts(np.array([G.path_count(width, int(k)) for k in depths], float),
                                   np.array([G.edge_count(width, int(k)) for k in depths], float))
            width_rows = []
            for k in map(int, depths):
                row, shorts = layered_graph_row(width, k, seeds, max_enumerated_paths, rng, autodiff)
                width_rows.append(row)
                control_gaps += shorts
            for mode, column in PER_EDGE_COLUMNS.items():  # cost against edges at this width: cost per edge
                per_edge[mode].append(np.polyfit(counts[width].edges, [float(r[column]) for r in width_rows], 1)[0])
            rows += width_rows
    gaps = {mode: max([0.0] + [r[f"{mode}: max gap / sum |path products|"] for r in rows]) for mode in LAYERED_MODES}
    fit = {mode: (float(np.mean(v)), float(max(v) / min(v))) for mode, v in per_edge.items()}
    summary = Layered(depths, np.array(widths), gaps["jvp"], gaps["vjp"],
                      float(min(control_gaps)) if control_gaps else math.nan, *fit["jvp"], *fit["vjp"],
                      *fit["path products"])
    return summary, counts, rows


def perturbed_notes_graph(a: jax.Array, b: jax.Array) -> jax.Array:
    """The negative control of the notes' values: d = b + 1.5 instead of b + 1
    (e = 7.5, de/da = 2.5, de/db = 5.5), a graph one constant away."""
    return (a + b) * (b + 1.5)


NOTES_CASES = {"forward": ("forward (jvp per input)", G.notes_graph, G.forward_mode),
               "reverse": ("reverse (one vjp)", G.notes_graph, G.reverse_mode),
               "control": ("control: d = b + 1.5 (reverse)", perturbed_notes_graph, G.reverse_mode)}


def notes_graph_errors(autodiff: G.Autodiff) -> tuple[dict[str, float], list[dict]]:
    """Each case of NOTES_CASES at a = 2, b = 1: max |(e, de/da, de/db) - (6, 2, 5)|, and the table rows."""
    errors, rows = {}, []
    for key, (name, graph, mode) in NOTES_CASES.items():
        r = mode(graph, (jnp.array(2.0), jnp.array(1.0)), autodiff)
        errors[key] = float(max(abs(r.value - 6.0), abs(r.gradient[0] - 2.0), abs(r.gradient[1] - 5.0)))
        rows.append({"mode": name, "e": float(r.value), "de/da": float(r.gradient[0]),
                     "de/db": float(r.gradient[1]), "forward passes": r.forward_passes,
                     "backward passes": r.backward_passes})
    return errors, rows


def harness_rows(input_counts, autodiff: G.Autodiff) -> list[dict]:
    """The passes `forward_mode` and `reverse_mode` count for the gradient of prod(x) + sum(x^2) (they hold
    by construction: a table, and a unit test)."""

    def f(*xs):  # scalar operations only: eager dispatch compiles each once
        return functools.reduce(operator.mul, xs) + sum(x * x for x in xs)

    rows = []
    for n in input_counts:
        primals = tuple(jnp.array(1.0 + 0.01 * i) for i in range(n))
        forward, reverse = G.forward_mode(f, primals, autodiff), G.reverse_mode(f, primals, autodiff)
        rows.append({"inputs": n, "forward passes": forward.forward_passes,
                     "reverse forward passes": reverse.forward_passes, "reverse backward passes": reverse.backward_passes,
                     "max abs(fwd - rev)": float(np.max(np.abs(np.array(forward.gradient) - np.array(reverse.gradient))))})
    return rows
