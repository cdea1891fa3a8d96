"""Forward and reverse mode on computational graphs, with the work counted.

The notes' graph c = a + b, d = b + 1, e = c * d: forward mode (one jvp) gives
the derivative of e with respect to one input per pass; reverse mode (one vjp)
gives the derivatives with respect to all inputs in one backward pass.

A layered graph (one input, `depth` hidden layers of `width` nodes, one
output, consecutive layers fully connected) has width**depth input-to-output
paths. The derivative is the sum over paths of the product of the edge
derivatives (the chain rule summed over paths); forward and reverse
accumulation factor that sum and visit every edge once.

Forward and reverse mode take their jvp and vjp from an `Autodiff` record
(JAX's by default), so that a wrong implementation can be put in their place
and shown to fail the checks.
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
class Autodiff:
    """The two primitives every derivative here is built from, with jax.jvp's and jax.vjp's signatures:
    jvp(f, primals, tangents) -> (f(primals), tangent out); vjp(f, *primals) -> (f(primals), pullback)."""

    name: str
    jvp: Callable
    vjp: Callable


JAX_AUTODIFF = Autodiff("jax.jvp / jax.vjp", jax.jvp, jax.vjp)


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


def forward_mode(f: Callable, primals: Sequence[jax.Array], autodiff: Autodiff = JAX_AUTODIFF) -> ModeResult:
    """Gradient of scalar f by one jvp per input, tangent = the i-th unit vector."""
    counted = _Counted(f)
    value, gradient = None, []
    for i in range(len(primals)):
        tangents = tuple(jnp.ones_like(p) if j == i else jnp.zeros_like(p) for j, p in enumerate(primals))
        value, derivative = autodiff.jvp(counted, tuple(primals), tangents)
        gradient.append(derivative)
    return ModeResult(value, tuple(gradient), counted.calls, 0)


def reverse_mode(f: Callable, primals: Sequence[jax.Array], autodiff: Autodiff = JAX_AUTODIFF) -> ModeResult:
    """Gradient of scalar f by one vjp: one forward pass, one backward pass."""
    counted = _Counted(f)
    value, pullback = autodiff.vjp(counted, *primals)
    backward = _Counted(pullback)
    gradient = backward(jnp.ones_like(value))
    return ModeResult(value, tuple(gradient), counted.calls, backward.calls)


def many_input_function(x: jax.Array) -> jax.Array:
    """f: R^n -> R, sum(tanh(x)^2) + (sum x)^2: every output depends on every input,
    and XLA's FLOPs of f grow as n (its full gradient: n jvps or one vjp)."""
    return jnp.sum(jnp.tanh(x) ** 2) + jnp.sum(x) ** 2


def many_input_gradient(x: np.ndarray) -> np.ndarray:
    """The closed form of grad `many_input_function`: 2 tanh(x) (1 - tanh(x)^2) + 2 sum(x), in float64."""
    x = np.asarray(x, np.float64)
    t = np.tanh(x)
    return 2 * t * (1 - t**2) + 2 * np.sum(x)


def full_gradient_by_jvps(f: Callable, autodiff: Autodiff = JAX_AUTODIFF) -> Callable:
    """x -> grad f(x) of scalar f on a vector by n jvps, one per unit tangent, vmapped (what jax.jacfwd does)."""
    def gradient(x):
        return jax.vmap(lambda e: autodiff.jvp(f, (x,), (e,))[1])(jnp.eye(x.shape[0], dtype=x.dtype))

    return gradient


def full_gradient_by_vjp(f: Callable, autodiff: Autodiff = JAX_AUTODIFF) -> Callable:
    """x -> grad f(x) of scalar f by one vjp with cotangent 1 (what jax.grad does)."""
    def gradient(x):
        value, pullback = autodiff.vjp(f, x)
        return pullback(jnp.ones_like(value))[0]

    return gradient


def layered_graph_weights(rng: np.random.Generator, width: int, depth: int) -> list[np.ndarray]:
    """Edge derivatives of a layered graph, float64 N(0, 1 / fan_in) drawn by numpy: W_0 (width x 1),
    depth - 1 matrices (width x width), W_depth (1 x width). Entry [i, j] labels the edge from node j
    of one layer to node i of the next."""
    shapes = [(width, 1)] + [(width, width)] * (depth - 1) + [(1, width)]
    return [rng.standard_normal(s) / np.sqrt(s[1]) for s in shapes]


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


def path_sum(weights: Sequence[np.ndarray], leave_out_largest: bool = False) -> Accumulation:
    """The chain rule summed over every path, one product of `depth + 1` edge
    labels per path: exponential work. Only for small graphs. Accumulation
    here and below is in float64 numpy: these are counts, not JAX programs.
    `leave_out_largest` drops the path of largest |product| (a wrong sum: the
    negative control of the agreement with the path sum; it is off by at least
    1 / paths of the sum of |path products|)."""
    ws = [np.asarray(w, np.float64) for w in weights]
    width = ws[0].shape[0]
    terms = []
    for nodes in itertools.product(range(width), repeat=len(ws) - 1):
        route = (0, *nodes, 0)  # node indices layer by layer, input and output are node 0
        term = 1.0
        for layer, w in enumerate(ws):
            term *= float(w[route[layer + 1], route[layer]])
        terms.append(term)
    if leave_out_largest:
        del terms[int(np.argmax(np.abs(terms)))]
    return Accumulation(float(sum(terms)), len(terms), len(terms) * len(ws))


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


@dataclasses.dataclass(frozen=True)
class Reference:
    """The derivative of one layered graph by the chain rule, in float64."""

    derivative: float  # the path sum where enumerated, else its factored form (forward accumulation)
    scale: float  # the sum of |path products|: the size of the terms, which bounds rounding
    one_path_short: float  # the path sum without its largest path (NaN: not enumerated)


def chain_rule_reference(weights: Sequence[np.ndarray], enumerated: bool) -> Reference:
    """`enumerated`: by the path sum (and the path sum one path short); else by forward accumulation."""
    absolute = forward_accumulation([np.abs(w) for w in weights]).derivative
    if not enumerated:
        return Reference(forward_accumulation(weights).derivative, absolute, float("nan"))
    return Reference(path_sum(weights).derivative, absolute, path_sum(weights, leave_out_largest=True).derivative)
