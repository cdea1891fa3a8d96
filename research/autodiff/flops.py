"""Operation counts of a traced JAX function with every loop body counted per iteration.

XLA's cost analysis counts the body of a `lax.scan` once, so a scanned RNN's
FLOPs are per-time-step figures, and the backward scan of its gradient is
counted once too. Walking the jaxpr instead (as `research.pruning.flops`
does for matmuls) multiplies each scan body by its length, so the grad/f
ratio of a recurrent model compares whole programs.

Counted, per output element unless said otherwise:
- matmul: 2 x multiply-accumulates of `dot_general` and `conv_general_dilated`;
- elementwise: arithmetic (add, mul, max, ...) and reductions (per input element);
- transcendental: exp, log, tanh, logistic, sin, ..., pow, sqrt (XLA reports
  these apart as "transcendentals": each costs tens of FLOPs on a CPU);
- bytes: memory traffic before fusion, the bytes every operation reads (its
  array operands) and writes (its results), whatever the operation: gathers,
  scatters, sorts, slices and copies count here where they cost no arithmetic
  (Griewank & Walther's MOVES). A fusing compiler moves less; XLA's "bytes
  accessed" counts after fusion but, like its FLOPs, a loop body once.

Sub-programs (jit, checkpoint, custom_jvp/vjp bodies, scan and while bodies)
are walked; a `cond` counts its most expensive branch. A `while` loop's trip
count is unknown at trace time: its body is counted once and the count says
so in `unbounded_loops`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
from jax.extend import core as jex_core

TRANSCENDENTAL = frozenset({
    "exp", "exp2", "log", "log1p", "expm1", "tanh", "logistic", "sin", "cos", "tan", "asin", "acos", "atan",
    "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "erfc", "erf_inv", "lgamma", "digamma", "pow",
    "sqrt", "rsqrt", "cbrt",
})
ELEMENTWISE = frozenset({
    "add", "add_any", "sub", "mul", "div", "rem", "neg", "max", "min", "abs", "sign", "integer_pow", "square",
    "select_n", "clamp", "floor", "ceil", "round", "eq", "ne", "lt", "le", "gt", "ge",
})
REDUCTIONS = frozenset({"reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "argmax", "argmin",
                        "cumsum", "cumlogsumexp", "cummax"})


@dataclass(frozen=True)
class OpCount:
    """Operations of one traced program, loop bodies counted per iteration."""

    matmul: int = 0
    elementwise: int = 0
    transcendental: int = 0
    bytes: int = 0  # read and written by every operation, before fusion
    unbounded_loops: int = 0  # while loops whose body was counted once

    @property
    def flops(self) -> int:
        """matmul + elementwise + transcendental (each transcendental counted as one operation)."""
        return self.matmul + self.elementwise + self.transcendental

    def __add__(self, other: OpCount) -> OpCount:
        return OpCount(self.matmul + other.matmul, self.elementwise + other.elementwise,
                       self.transcendental + other.transcendental, self.bytes + other.bytes,
                       self.unbounded_loops + other.unbounded_loops)

    def times(self, repeat: int) -> OpCount:
        return OpCount(self.matmul * repeat, self.elementwise * repeat, self.transcendental * repeat,
                       self.bytes * repeat, self.unbounded_loops)


def _size(var) -> int:
    return math.prod(getattr(var.aval, "shape", ()))


def _matmul_flops(eqn) -> int:
    name = eqn.primitive.name
    if name == "dot_general":
        (lhs_contract, _), _ = eqn.params["dimension_numbers"]
        k = math.prod(eqn.invars[0].aval.shape[d] for d in lhs_contract)
        return 2 * _size(eqn.outvars[0]) * k
    if name == "conv_general_dilated":
        rhs_shape = eqn.invars[1].aval.shape
        out_feature_dim = eqn.params["dimension_numbers"].rhs_spec[0]
        return 2 * _size(eqn.outvars[0]) * (math.prod(rhs_shape) // rhs_shape[out_feature_dim])
    return 0


def _bytes(var) -> int:
    """Bytes of an array variable; 0 for a literal (a constant in the instruction) or a token."""
    if isinstance(var, jex_core.Literal) or not hasattr(var.aval, "shape"):
        return 0
    return _size(var) * var.aval.dtype.itemsize


def _own_count(eqn) -> OpCount:
    """An operation's own arithmetic and traffic (none for one that only holds sub-programs)."""
    if any(True for value in eqn.params.values() for _ in _sub_jaxprs(value)):
        return OpCount()
    name = eqn.primitive.name
    traffic = sum(map(_bytes, eqn.invars)) + sum(map(_bytes, eqn.outvars))
    if name in TRANSCENDENTAL:
        return OpCount(transcendental=sum(_size(v) for v in eqn.outvars), bytes=traffic)
    if name in ELEMENTWISE:
        return OpCount(elementwise=sum(_size(v) for v in eqn.outvars), bytes=traffic)
    if name in REDUCTIONS:
        return OpCount(elementwise=_size(eqn.invars[0]), bytes=traffic)
    return OpCount(matmul=_matmul_flops(eqn), bytes=traffic)


def _sub_jaxprs(value):
    for sub in value if isinstance(value, (tuple, list)) else (value,):
        if isinstance(sub, jex_core.ClosedJaxpr):
            yield sub.jaxpr
        elif isinstance(sub, jex_core.Jaxpr):
            yield sub


def count_jaxpr(jaxpr) -> OpCount:
    """Operations of a jaxpr, sub-programs included, scan bodies times their length."""
    total = OpCount()
    for eqn in jaxpr.eqns:
        total = total + _own_count(eqn)
        name = eqn.primitive.name
        if name == "cond":
            branches = [count_jaxpr(b) for b in _sub_jaxprs(eqn.params["branches"])]
            total = total + max(branches, key=lambda c: c.flops)
            continue
        inner = OpCount()
        for value in eqn.params.values():
            for sub in _sub_jaxprs(value):
                inner = inner + count_jaxpr(sub)
        if name == "scan":
            inner = inner.times(int(eqn.params["length"]))
        elif name == "while":
            inner = inner + OpCount(unbounded_loops=1)
        total = total + inner
    return total


def loop_aware_count(fn, *args) -> OpCount:
    """Operations of `fn(*args)` (traced, not compiled), every scan iteration counted."""
    return count_jaxpr(jax.make_jaxpr(fn)(*args).jaxpr)
