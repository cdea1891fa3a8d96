"""What a derivative of f holds in memory, in three figures:

- residuals: what a forward pass keeps for the backward pass, the leaves of the
  VJP object `jax.vjp` returns (saved activations, inputs included), read from
  shapes (nothing runs). Forward mode (jvp, jacfwd) keeps none;
- temporaries: XLA's `temp_size_in_bytes` of the compiled program, its scratch
  beyond arguments and outputs;
- peak: the memory a device runs out of. XLA's `peak_memory_in_bytes` where this
  jax reports it (a positive number), else argument + output + temporary bytes,
  an upper bound when XLA aliases an output to an argument; `Peak.source` says
  which.

A Jacobian of f: R^n -> R^m holds m x n entries, whatever mode forms it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from research.autodiff_args import Argnums, pick, restrict

DEFAULT_MEMORY_BUDGET = 256 * 2**20  # bytes: Jacobians larger than this are not formed unless a budget says so
REVERSE_MODE = frozenset({"vjp", "grad", "jacrev", "hvp"})  # transforms that keep residuals for a backward pass
PEAK_REPORTED = "XLA peak_memory_in_bytes"
PEAK_SUMMED = "argument + output + temp bytes"


@dataclass(frozen=True)
class Peak:
    bytes: float
    source: str  # PEAK_REPORTED or PEAK_SUMMED


def peak_of(memory: Any) -> Peak:
    """The peak of a compiled program from its `memory_analysis()` (None: unknown, NaN)."""
    if memory is None:
        return Peak(math.nan, PEAK_SUMMED)
    reported = float(getattr(memory, "peak_memory_in_bytes", 0) or 0)
    if reported > 0:
        return Peak(reported, PEAK_REPORTED)
    summed = sum(float(getattr(memory, name, math.nan))
                 for name in ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes"))
    return Peak(summed, PEAK_SUMMED)


def _bytes(leaf: Any) -> int:
    return int(np.prod(leaf.shape)) * jnp.dtype(leaf.dtype).itemsize


def residual_bytes(f: Callable, *example_args: Any, argnums: Argnums = 0) -> int:
    """Bytes of the residuals `jax.vjp` of f with respect to `example_args[argnums]`
    keeps: the leaves of the VJP object (shapes only, nothing runs)."""
    vjp_object = jax.eval_shape(lambda *args: jax.vjp(restrict(f, args, argnums), *pick(args, argnums))[1],
                                *example_args)
    return sum(_bytes(x) for x in jax.tree.leaves(vjp_object))


def jacobian_bytes(f: Callable, *example_args: Any, argnums: Argnums = 0) -> int:
    """Bytes of the Jacobian of f in `example_args[argnums]`: for every (output leaf,
    input leaf) pair, output size x input size x the itemsize of their common dtype."""
    outputs = jax.tree.leaves(jax.eval_shape(f, *example_args))
    inputs = jax.tree.leaves(pick(example_args, argnums))
    return sum(int(np.prod(o.shape)) * int(np.prod(np.shape(i)))
               * jnp.dtype(jnp.result_type(o.dtype, jnp.result_type(i))).itemsize
               for o in outputs for i in inputs)


def mib(n_bytes: float) -> str:
    """Bytes as MiB to three significant figures."""
    return f"{n_bytes / 2**20:.3g} MiB"
