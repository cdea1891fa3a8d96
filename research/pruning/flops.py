"""FLOPs of dense and pruned networks, for Scratch-B's budget (Liu et al. 2019, Sec. 4).

Convention: a FLOP count is 2 x the multiply-accumulates of the weight layers
(dense and convolution), per example of the forward pass. Bias adds,
activations and pooling are left out: they are O(units), not O(weights), and
pruning papers (Li et al. 2017; Liu et al. 2019) count the same way.

A weight entry of a dense layer is used once per example; a conv kernel entry
once per output position. So a layer's FLOPs are `2 * nnz(w) * positions`,
which covers dense nets (positions = 1), structured-pruned nets (smaller w)
and unstructured-pruned nets (nnz < size) with one formula.

`weight_ops` walks a traced function's jaxpr (dot_general and conv_general_dilated,
scan bodies counted per iteration) and `weight_positions` reads each layer's
positions off it (so the hand formula needs no model-specific geometry); the
tests count whole programs with it and with XLA's cost analysis as independent
checks of the hand count (tests/research/flop_oracles.py).
"""

import math

import jax
import numpy as np
from jax.extend import core as jex_core

from research.pruning.masks import is_prunable


def layer_flops(w_shape, positions: int = 1, nnz: int | None = None) -> int:
    """2 * nnz(w) * positions: one MAC per weight per output position (per example)."""
    count = math.prod(w_shape) if nnz is None else int(nnz)
    return 2 * count * positions


def network_flops(weights, positions, masks=None) -> int:
    """Sum of `layer_flops` over the weight leaves in tree order.

    `positions[i]` is the number of output positions of the i-th weight (1 for a
    dense layer, H_out * W_out for a 2-D conv); `masks` (optional, the same tree)
    counts only kept weights, as for an unstructured-pruned network.
    """
    ws = [w for w in jax.tree.leaves(weights) if is_prunable(w)]
    if masks is None:
        ms = [None] * len(ws)
    else:
        ms = [m for m in jax.tree.leaves(masks) if is_prunable(m)]
    if len(positions) != len(ws):
        raise ValueError(f"{len(positions)} position counts for {len(ws)} weight layers")
    return sum(
        layer_flops(w.shape, pos, None if m is None else int(np.count_nonzero(np.asarray(m))))
        for w, m, pos in zip(ws, ms, positions)
    )


def _eqn_flops(eqn) -> int:
    name = eqn.primitive.name
    if name == "dot_general":
        (lhs_contract, _), _ = eqn.params["dimension_numbers"]
        lhs_shape = eqn.invars[0].aval.shape
        k = math.prod(lhs_shape[d] for d in lhs_contract)
        return 2 * math.prod(eqn.outvars[0].aval.shape) * k
    if name == "conv_general_dilated":
        rhs_shape = eqn.invars[1].aval.shape
        out_feature_dim = eqn.params["dimension_numbers"].rhs_spec[0]
        per_output = math.prod(rhs_shape) // rhs_shape[out_feature_dim]  # kh*kw*cin/groups
        return 2 * math.prod(eqn.outvars[0].aval.shape) * per_output
    return 0


def weight_ops(jaxpr, repeat=1):
    """(flops, rhs size) of every matmul/conv in program order, sub-programs included."""
    for eqn in jaxpr.eqns:
        flops = _eqn_flops(eqn)
        if flops:
            yield repeat * flops, math.prod(eqn.invars[1].aval.shape)
        times = repeat * (eqn.params.get("length", 1) if eqn.primitive.name == "scan" else 1)
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(sub, jex_core.ClosedJaxpr):
                    yield from weight_ops(sub.jaxpr, times)
                elif isinstance(sub, jex_core.Jaxpr):
                    yield from weight_ops(sub, times)


def weight_positions(fn, *args) -> list[int]:
    """Output positions of each matmul/conv of `fn(*args)` for ONE example, in program order.

    For a sequential model called on a batch of one, entry i is the `positions`
    that `network_flops` needs for weight layer i: FLOPs / (2 * kernel size).
    """
    return [flops // (2 * size) for flops, size in weight_ops(jax.make_jaxpr(fn)(*args).jaxpr)]
