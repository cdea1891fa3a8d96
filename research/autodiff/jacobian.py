"""Four ways to form the Jacobian of f: R^n -> R^m (the JAX Autodiff Cookbook).

jacfwd pushes the n unit tangents through one vmapped jvp (cost ~ n times f),
jacrev pulls the m unit cotangents through one vmapped vjp (cost ~ m times f):
jacfwd for tall Jacobians (n << m), jacrev for wide ones (n >> m). The Python
loops do the same passes one dispatch at a time, which is what vmap saves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import bench, stats
from common.bench import compiled_costs
from research.autodiff.costs import interleaved_noting_small

JacobianFn = Callable[[jax.Array], jax.Array]  # x (n,) -> J (m, n)


def jacobian_jacfwd(f: Callable) -> JacobianFn:
    return jax.jit(jax.jacfwd(f))


def jacobian_jacrev(f: Callable) -> JacobianFn:
    return jax.jit(jax.jacrev(f))


def jacobian_jvp_loop(f: Callable) -> JacobianFn:
    """Column i of J is the jvp with the i-th unit tangent: n compiled calls."""
    column = jax.jit(lambda x, tangent: jax.jvp(f, (x,), (tangent,))[1])

    def jacobian(x: jax.Array) -> jax.Array:
        basis = jnp.eye(x.shape[0], dtype=x.dtype)
        return jnp.stack([column(x, e) for e in basis], axis=-1)

    return jacobian


def jacobian_vjp_loop(f: Callable) -> JacobianFn:
    """Row i of J is the vjp with the i-th unit cotangent: m compiled calls."""
    row = jax.jit(lambda x, cotangent: jax.vjp(f, x)[1](cotangent)[0])

    def jacobian(x: jax.Array) -> jax.Array:
        m = jax.eval_shape(f, x).shape[0]
        basis = jnp.eye(m, dtype=x.dtype)
        return jnp.stack([row(x, e) for e in basis], axis=0)

    return jacobian


JACOBIAN_STRATEGIES: dict[str, Callable[[Callable], JacobianFn]] = {
    "jacfwd": jacobian_jacfwd,
    "jacrev": jacobian_jacrev,
    "jvp_loop": jacobian_jvp_loop,
    "vjp_loop": jacobian_vjp_loop,
}


def init_map(rng: np.random.Generator, n: int, m: int, hidden: int, dtype=jnp.float32) -> dict:
    """Weights of the test map f(x) = W2 tanh(W1 x + b1): R^n -> R^m (LeCun scale), drawn by numpy (an eager
    jax.random draw compiles a program per shape)."""
    draws = {"w1": rng.standard_normal((hidden, n)) / np.sqrt(n), "b1": 0.1 * rng.standard_normal(hidden),
             "w2": rng.standard_normal((m, hidden)) / np.sqrt(hidden)}
    return {name: jax.device_put(a.astype(dtype)) for name, a in draws.items()}


def apply_map(params: dict, x: jax.Array) -> jax.Array:
    return params["w2"] @ jnp.tanh(params["w1"] @ x + params["b1"])


Strategies = dict[str, Callable]  # "jacfwd", "jacrev" -> a transform like jax.jacfwd(f, argnums=...)


class FlopSweep(NamedTuple):
    """XLA FLOPs of f, jacfwd and jacrev of the test map at each (n, m), the median over seeds."""

    n: np.ndarray
    m: np.ndarray
    f_flops: np.ndarray
    jacfwd_flops: np.ndarray
    jacrev_flops: np.ndarray


def point_flops(strategies: Strategies, n: int, m: int, hidden: int, rng: np.random.Generator) -> dict[str, float]:
    """XLA FLOPs of f and of each strategy at one (n, m), as functions of (params, x): no weights folded into
    the program."""
    params = init_map(rng, n, m, hidden)
    x = jax.device_put(rng.standard_normal(n).astype(np.float32))
    return {"f": compiled_costs(apply_map, params, x)["flops"],
            **{name: compiled_costs(jac(apply_map, argnums=1), params, x)["flops"] for name, jac in strategies.items()}}


def flop_sweep(strategies: Strategies, sizes: list[tuple[int, int]], hidden: int, seeds: int, seed: int) -> FlopSweep:
    """Each (n, m) of `sizes` measured on `seeds` random maps; the median over them."""
    per_point = [[point_flops(strategies, n, m, hidden, np.random.default_rng([seed, s, n, m])) for s in range(seeds)]
                 for n, m in sizes]
    median = {name: np.array([np.median([p[name] for p in point]) for point in per_point])
              for name in ("f", "jacfwd", "jacrev")}
    return FlopSweep(np.array([n for n, _ in sizes]), np.array([m for _, m in sizes]), median["f"],
                     median["jacfwd"], median["jacrev"])


def timed_strategies(strategies: Strategies, n: int, m: int, hidden: int, batch: int, rounds: int,
                     seed: int) -> tuple[bench.Rounds, list[str]]:
    """jacfwd and jacrev of `batch` inputs (vmapped) at one (n, m), in interleaved rounds with an A/A on jacfwd,
    and the lines naming programs too small to time."""
    rng = np.random.default_rng(seed)
    params = init_map(rng, n, m, hidden)
    xs = jax.device_put(rng.standard_normal((batch, n)).astype(np.float32))
    programs = {}
    for name, jac in strategies.items():
        program = jax.jit(jax.vmap(jac(apply_map, argnums=1), in_axes=(None, 0)))
        programs[name] = lambda program=program: program(params, xs)
    return interleaved_noting_small(programs, "jacfwd", rounds, seed, f"n = {n}, m = {m}")


def flop_rows(sweep: FlopSweep) -> list[dict]:
    """A report row per (n, m) of a sweep: FLOPs of each strategy per f's and their ratio."""
    return [{"n": int(n), "m": int(m), "n/m": n / m, "f MFLOP": f / 1e6, "jacfwd / f FLOPs": fwd / f,
             "jacrev / f FLOPs": rev / f, "jacfwd / jacrev FLOPs": fwd / rev} for n, m, f, fwd, rev in zip(*sweep)]


def time_row(n: int, m: int, rounds: bench.Rounds) -> dict:
    """A report row of `timed_strategies`' rounds: median times, the ratio and the A/A, with intervals."""
    return {"n": n, "m": m, "jacfwd ms": float(np.median(rounds.seconds["jacfwd"])) * 1e3,
            "jacrev ms": float(np.median(rounds.seconds["jacrev"])) * 1e3,
            "jacfwd / jacrev time (95% interval)": f"{rounds.ratio('jacfwd', 'jacrev'):.3g}",
            "A/A (jacfwd / jacfwd)": f"{stats.bootstrap_median(rounds.aa()):.3g}"}
