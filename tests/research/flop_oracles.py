"""Independent FLOP counts the tests hold research/pruning/flops.py's closed forms against: the traced
program's matmuls and convolutions, and XLA's own cost analysis of the compiled program."""

import jax

from research.pruning.flops import weight_ops


def jaxpr_flops(fn, *args) -> int:
    """2 x MACs of every matmul and convolution `fn(*args)` traces to (whole batch)."""
    return sum(flops for flops, _ in weight_ops(jax.make_jaxpr(fn)(*args).jaxpr))


def xla_flops(fn, *args) -> float:
    """FLOPs XLA's cost analysis reports for the compiled `fn(*args)` (all ops)."""
    cost = jax.jit(fn).lower(*args).compile().cost_analysis()
    if isinstance(cost, (list, tuple)):
        cost = cost[0]
    return float(cost["flops"])
