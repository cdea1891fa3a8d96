"""What a derivative of f holds in memory, in three figures:

- residuals: what a forward pass keeps for the backward pass, the leaves of the
  VJP object `jax.vjp` returns (saved activations, inputs included), read from
  shapes (nothing runs). Forward mode (jvp, jacfwd) keeps none;
- temporaries: XLA's `temp_size_in_bytes` of the compiled program, its scratch
  beyond arguments and outputs;
- peak: the memory a device runs out of: the larger of XLA's
  `peak_memory_in_bytes` (where this jax reports it) and what one call
  allocates, argument + output + temporary bytes less those aliased;
  `Peak.source` says which. The larger, not the reported one alone: on the CPU
  backend of jax 0.10 `peak_memory_in_bytes` leaves the temporaries out (a
  jacfwd with 149 MiB of temporaries reported 52 KiB), and a budget applied to
  it would let that program run out of memory.

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

from research.autodiff.args import Argnums, pick, restrict

DEFAULT_MEMORY_BUDGET = 256 * 2**20  # bytes: Jacobians larger than this are not formed unless a budget says so
REVERSE_MODE = frozenset({"vjp", "grad", "jacrev", "hvp"})  # transforms that keep residuals for a backward pass
PEAK_REPORTED = "XLA peak_memory_in_bytes"
PEAK_SUMMED = "argument + output + temp bytes less aliased"


@dataclass(frozen=True)
class Peak:
    bytes: float
    source: str  # PEAK_REPORTED or PEAK_SUMMED


def peak_of(memory: Any) -> Peak:
    """The peak of a compiled program from its `memory_analysis()` (None: unknown, NaN):
    the larger of the reported peak and the bytes one call allocates."""
    if memory is None:
        return Peak(math.nan, PEAK_SUMMED)
    allocated = sum(float(getattr(memory, name, math.nan))
                    for name in ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes"))
    allocated -= float(getattr(memory, "alias_size_in_bytes", 0) or 0)
    reported = float(getattr(memory, "peak_memory_in_bytes", 0) or 0)
    return Peak(reported, PEAK_REPORTED) if reported >= allocated else Peak(allocated, PEAK_SUMMED)


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
