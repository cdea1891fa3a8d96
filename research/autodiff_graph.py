"""Forward and reverse mode on computational graphs, with the work counted.

The notes' graph c = a + b, d = b + 1, e = c * d: forward mode (one jvp) gives
the derivative of e with respect to one input per pass; reverse mode (one vjp)
gives the derivatives with respect to all inputs in one backward pass.

A layered graph (one input, `depth` hidden layers of `width` nodes, one
output, consecutive layers fully connected) has width**depth input-to-output
paths. The derivative is the sum over paths of the product of the edge
derivatives (the chain rule summed over paths); forward and reverse
accumulation factor that sum and visit every edge once.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np


def notes_graph(a: jax.Array, b: jax.Array) -> jax.Array:
    """e = (a + b) * (b + 1); at (a, b) = (2, 1): e = 6, de/da = 2, de/db = 5."""
    c = a + b
    d = b + 1
    return c * d


@dataclasses.dataclass(frozen=True)
class ModeResult:
    """Value and gradient of a scalar function, with the passes it took:
    `forward_passes` counts evaluations of f (each jvp or vjp runs f once),
    `backward_passes` counts calls of the vjp's pullback."""

    value: jax.Array
    gradient: tuple[jax.Array, ...]
    forward_passes: int
    backward_passes: int


class _Counted:
    """f with a counter of how many times its body runs."""

    def __init__(self, f: Callable):
        self.f, self.calls = f, 0

    def __call__(self, *args):
        self.calls += 1
        return self.f(*args)


def forward_mode(f: Callable, primals: Sequence[jax.Array]) -> ModeResult:
    """Gradient of scalar f by one jvp per input, tangent = the i-th unit vector."""
    counted = _Counted(f)
    value, gradient = None, []
    for i in range(len(primals)):
        tangents = tuple(jnp.ones_like(p) if j == i else jnp.zeros_like(p) for j, p in enumerate(primals))
        value, derivative = jax.jvp(counted, tuple(primals), tangents)
        gradient.append(derivative)
    return ModeResult(value, tuple(gradient), counted.calls, 0)


def reverse_mode(f: Callable, primals: Sequence[jax.Array]) -> ModeResult:
    """Gradient of scalar f by one vjp: one forward pass, one backward pass."""
    counted = _Counted(f)
    value, pullback = jax.vjp(counted, *primals)
    backward = _Counted(pullback)
    gradient = backward(jnp.ones_like(value))
    return ModeResult(value, tuple(gradient), counted.calls, backward.calls)


def many_input_function(x: jax.Array) -> jax.Array:
    """f: R^n -> R, sum(tanh(x)^2) + (sum x)^2: every output depends on every input,
    and XLA's FLOPs of f grow as n (its full gradient: n jvps or one vjp)."""
    return jnp.sum(jnp.tanh(x) ** 2) + jnp.sum(x) ** 2


def layered_graph_weights(key: jax.Array, width: int, depth: int) -> list[jax.Array]:
    """Edge derivatives of a layered graph: W_0 (width x 1), depth - 1 matrices
    (width x width), W_depth (1 x width). Entry [i, j] labels the edge from node j
    of one layer to node i of the next."""
    shapes = [(width, 1)] + [(width, width)] * (depth - 1) + [(1, width)]
    keys = jax.random.split(key, len(shapes))
    return [jax.random.normal(k, s) / np.sqrt(s[1]) for k, s in zip(keys, shapes)]


def layered_graph(weights: Sequence[jax.Array], x: jax.Array) -> jax.Array:
    """The graph as a function R -> R: each node sums its inputs times the edge labels."""
    h = jnp.reshape(x, (1,))
    for w in weights:
        h = w @ h
    return h[0]


def path_count(width: int, depth: int) -> int:
    """Input-to-output paths: one node chosen in each hidden layer."""
    return width**depth


def edge_count(width: int, depth: int) -> int:
    return 2 * width + (depth - 1) * width**2


@dataclasses.dataclass(frozen=True)
class Accumulation:
    """dy/dx of the layered graph and the work spent: `items_visited` counts
    paths for the path sum, edges for forward and reverse accumulation;
    `multiplications` counts scalar products."""

    derivative: float
    items_visited: int
    multiplications: int


def path_sum(weights: Sequence[np.ndarray], leave_out_last: bool = False) -> Accumulation:
    """The chain rule summed over every path, one product of `depth + 1` edge
    labels per path: exponential work. Only for small graphs. Accumulation
    here and below is in float64 numpy: these are counts, not JAX programs.
    `leave_out_last` drops the last path (a wrong sum: the negative control of
    the agreement between path sum and accumulation)."""
    ws = [np.asarray(w, np.float64) for w in weights]
    width = ws[0].shape[0]
    total, paths, products = 0.0, 0, 0
    routes = list(itertools.product(range(width), repeat=len(ws) - 1))
    for nodes in routes[:-1] if leave_out_last else routes:
        route = (0, *nodes, 0)  # node indices layer by layer, input and output are node 0
        term = 1.0
        for layer, w in enumerate(ws):
            term *= float(w[route[layer + 1], route[layer]])
        total += term
        paths += 1
        products += len(ws)
    return Accumulation(total, paths, products)


def forward_accumulation(weights: Sequence[np.ndarray]) -> Accumulation:
    """Tangents pushed from the input: t_{l+1} = W_l t_l, each edge used once."""
    t = np.ones(1)
    edges = 0
    for w in weights:
        t = np.asarray(w, np.float64) @ t
        edges += int(np.size(w))
    return Accumulation(float(t[0]), edges, edges)


def reverse_accumulation(weights: Sequence[np.ndarray]) -> Accumulation:
    """Adjoints pulled from the output: u_l = W_l^T u_{l+1}, each edge used once."""
    u = np.ones(1)
    edges = 0
    for w in reversed(weights):
        u = np.asarray(w, np.float64).T @ u
        edges += int(np.size(w))
    return Accumulation(float(u[0]), edges, edges)
