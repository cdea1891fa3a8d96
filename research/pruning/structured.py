"""Structured L1-norm pruning of neurons (MLP) and filters (CNN), Li et al. (2017).

The network is a sequence of layers, each a dict with a weight `w` whose last
axis is the output unit (dense `(in, out)`, conv `(kh, kw, in, out)`, HWIO) and
whose axis -2 is the input; every other array of the layer whose last axis has
the output size (bias, a normalisation's scale and offset) belongs to a unit too.

A unit of layer i is scored by the L1 norm of its incoming weights
`sum |w_i[..., j]|` (Li et al. 2017, Sec. 3.1: the sum of a filter's absolute
kernel weights), and the lowest-scoring fraction of each hidden layer is
removed; the output layer keeps every unit. Removing unit j of layer i deletes
column j of layer i and the rows of layer i+1 that read it. When layer i+1 reads
a flattened NHWC feature map (conv -> flatten -> dense) its input axis has
`positions * channels` rows with the channel fastest, and the rows of channel j
at every position are removed together.

`prune_units` returns a genuinely smaller parameter pytree (smaller arrays, the
architecture to fine-tune or train from scratch) that computes the same function
as the large network with those units zeroed (the tests check it against masks).
"""

import jax
import jax.numpy as jnp

from research.pruning.masks import n_pruned

WEIGHT = "w"


def _n_out(layer) -> int:
    return layer[WEIGHT].shape[-1]


def _is_unit_leaf(name, leaf, n_out) -> bool:
    return name != WEIGHT and jnp.ndim(leaf) >= 1 and jnp.shape(leaf)[-1] == n_out


def unit_l1_norms(layer) -> jax.Array:
    """L1 norm of each output unit's incoming weights, shape (n_out,)."""
    w = layer[WEIGHT]
    return jnp.sum(jnp.abs(w), axis=tuple(range(w.ndim - 1)))


def n_kept(ratio: float, n_out: int) -> int:
    """Units a layer keeps when the fraction `ratio` of its n_out units is pruned."""
    return n_out - n_pruned(ratio, n_out)


def l1_keep_indices(layers, ratios) -> list[jax.Array]:
    """Indices (ascending) of the units kept in each hidden layer.

    `ratios` is one float for every hidden layer or one per hidden layer; the last
    layer is the output and is never pruned.
    """
    hidden = layers[:-1]
    if isinstance(ratios, (int, float)):
        ratios = [float(ratios)] * len(hidden)
    if len(ratios) != len(hidden):
        raise ValueError(f"{len(ratios)} ratios for {len(hidden)} hidden layers")
    keep = []
    for layer, ratio in zip(hidden, ratios):
        k = n_kept(ratio, _n_out(layer))
        # Largest norms kept; stable sort on -norm breaks ties towards lower index.
        top = jnp.argsort(-unit_l1_norms(layer), stable=True)[:k]
        keep.append(jnp.sort(top))
    return keep


def _take_inputs(w, idx, n_prev):
    """Rows of w's input axis (-2) that read the kept units `idx` of the previous layer."""
    n_in = w.shape[-2]
    if n_in % n_prev:
        raise ValueError(f"input size {n_in} is not a multiple of the previous width {n_prev}")
    positions = n_in // n_prev
    w_split = w.reshape(w.shape[:-2] + (positions, n_prev, w.shape[-1]))
    w_kept = jnp.take(w_split, idx, axis=-2)
    return w_kept.reshape(w.shape[:-2] + (positions * idx.shape[0], w.shape[-1]))


def prune_units(layers, keep) -> list[dict]:
    """The smaller network that keeps only the units `keep[i]` of each hidden layer i."""
    out = [dict(layer) for layer in layers]
    for i, idx in enumerate(keep):
        n_out = _n_out(layers[i])
        out[i] = {
            name: jnp.take(leaf, idx, axis=-1) if name == WEIGHT or _is_unit_leaf(name, leaf, n_out)
            else leaf
            for name, leaf in out[i].items()
        }
        out[i + 1] = dict(out[i + 1], **{WEIGHT: _take_inputs(out[i + 1][WEIGHT], idx, n_out)})
    return out
