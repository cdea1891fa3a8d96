"""Unstructured masks: magnitude (layer-wise or global) and random, at an exact sparsity.

A leaf is prunable when it is a weight matrix or kernel (ndim >= 2); biases and
other vectors are never pruned and always get all-True masks. Sparsity is the
fraction of prunable entries that are pruned, and every mask here prunes
exactly `round(sparsity * n)` entries (n = entries of the layer, or of all
prunable layers for the global scope): entries are ranked with a stable sort,
so ties never change the count.

Scopes: `layer` (each weight matrix to the same sparsity), `global` (one
magnitude threshold over all weight matrices) and `global-dense-classifier`
(Liu et al. 2019's `weight-level/cifar_prune.py`: one threshold over every
weight matrix but the classifier, which stays dense; the classifier is the
last prunable leaf in tree order, the output layer of a sequential model).

All functions are pure and traceable (they vmap over seeds); `pruned_counts` reads only
shapes, so the counts can be worked out on the host and passed in traced.
"""

import math
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

Scope = Literal["layer", "global", "global-dense-classifier"]
SCOPES = ("global-dense-classifier", "global", "layer")


def is_prunable(leaf) -> bool:
    """Weights (dense (in, out) or conv (*kernel, in, out)) are pruned, vectors are not."""
    return jnp.ndim(leaf) >= 2


def n_pruned(sparsity: float, n: int) -> int:
    """Number of entries to prune: round half up, so the count is exact and reproducible."""
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    return int(math.floor(sparsity * n + 0.5))


def _keep_top(scores_flat: jax.Array, k_pruned) -> jax.Array:
    """Boolean mask keeping all but the `k_pruned` lowest scores (stable ranking); `k_pruned`
    may be traced: entry order[i] is kept when i >= k_pruned."""
    order = jnp.argsort(scores_flat, stable=True)
    n = scores_flat.shape[0]
    return jnp.zeros(n, dtype=bool).at[order].set(jnp.arange(n) >= k_pruned)


def _scores(params, masks):
    """|w|, with entries already pruned scored -inf so that they are pruned first."""

    def score(p, m):
        s = jnp.abs(p).astype(jnp.float32)
        return s if m is None else jnp.where(m, s, -jnp.inf)

    if masks is None:
        return jax.tree.map(lambda p: score(p, None), params)
    return jax.tree.map(score, params, masks)


def _pools(leaves, scope: Scope) -> list[list[int]]:
    """Indices of the prunable leaves ranked together: one pool per leaf (`layer`), all of them
    (`global`) or all but the classifier, the last (`global-dense-classifier`)."""
    prunable = [i for i, s in enumerate(leaves) if is_prunable(s)]
    if scope == "layer":
        return [[i] for i in prunable]
    if scope == "global-dense-classifier":
        if len(prunable) < 2:
            raise ValueError("global-dense-classifier needs a weight matrix besides the classifier")
        return [prunable[:-1]]
    if scope == "global":
        return [prunable]
    raise ValueError(f"unknown scope {scope!r}")


def pruned_counts(params, sparsity, scope: Scope = "layer") -> tuple[int, ...]:
    """Entries to prune in each pool of `scope` (see `masks_from_counts`): round(sparsity x the
    pool's size). `sparsity` is one fraction, or with the `layer` scope one per prunable leaf
    (Frankle & Carbin prune the output layer at half the others' rate). Only shapes are read."""
    leaves = jax.tree.leaves(params)
    pools = _pools(leaves, scope)
    targets = [float(sparsity)] * len(pools) if np.ndim(sparsity) == 0 else [float(s) for s in sparsity]
    if len(targets) != len(pools):
        raise ValueError(f"{len(targets)} sparsities for {len(pools)} weight matrices")
    return tuple(n_pruned(s, sum(math.prod(jnp.shape(leaves[i])) for i in pool)) for s, pool in zip(targets, pools))


def masks_from_counts(scores, counts, scope: Scope = "layer"):
    """Prune the `counts[j]` lowest scores of pool j and keep the rest: a pool is each prunable
    leaf (`layer`), all of them (`global`) or all but the last (`global-dense-classifier`, whose
    classifier stays dense). The counts may be traced, so one compiled program serves every
    sparsity (the rounds of iterative pruning)."""
    leaves, treedef = jax.tree.flatten(scores)
    out = [jnp.ones(jnp.shape(s), dtype=bool) for s in leaves]
    pools = _pools(leaves, scope)
    if len(counts) != len(pools):
        raise ValueError(f"{len(counts)} counts for {len(pools)} pools of scope {scope!r}")
    for pool, count in zip(pools, counts):
        keep = _keep_top(jnp.concatenate([leaves[i].ravel() for i in pool]), count)
        start = 0
        for i in pool:
            size = leaves[i].size
            out[i] = keep[start : start + size].reshape(leaves[i].shape)
            start += size
    return jax.tree.unflatten(treedef, out)


def magnitude_masks(params, sparsity, scope: Scope = "layer", masks=None):
    """Prune the smallest |w| to the given total sparsity (Han et al. 2015); with the `layer`
    scope `sparsity` may also be one fraction per prunable leaf.

    With `masks` (iterative pruning) the entries already pruned are pruned first,
    so the new mask is a subset of the old one whenever `sparsity` does not drop.
    """
    return masks_from_counts(_scores(params, masks), pruned_counts(params, sparsity, scope), scope)


def magnitude_masks_of_counts(params, counts, scope: Scope = "layer", masks=None):
    """`magnitude_masks` with the counts to prune (`pruned_counts`) given, maybe traced."""
    return masks_from_counts(_scores(params, masks), counts, scope)


def _uniform_like(key, leaves):
    """One uniform draw cut into arrays shaped like `leaves` (one RNG call, cheap to compile)."""
    sizes = [int(jnp.size(x)) for x in leaves]
    flat = jax.random.uniform(key, (sum(sizes),))
    out, start = [], 0
    for x, size in zip(leaves, sizes):
        out.append(flat[start : start + size].reshape(jnp.shape(x)))
        start += size
    return out


def random_masks_like(key, masks):
    """Each prunable mask's kept entries moved to random positions, same count per layer.

    This is the random-pruning control of Frankle & Carbin (2019), which keeps the
    layer-wise pruning rates of the winning ticket. The counts may be traced
    (masks computed under jit or vmap): an entry is kept when the rank of its
    random score is below the layer's kept count.
    """
    leaves, treedef = jax.tree.flatten(masks)
    scores = _uniform_like(key, leaves)
    out = []
    for m, s in zip(leaves, scores):
        if is_prunable(m):
            ranks = jnp.argsort(jnp.argsort(s.ravel()))
            out.append((ranks < jnp.sum(m)).reshape(m.shape))
        else:
            out.append(m)
    return jax.tree.unflatten(treedef, out)


def sparsity(masks) -> jax.Array:
    """Fraction of prunable entries that are pruned."""
    leaves = [m for m in jax.tree.leaves(masks) if is_prunable(m)]
    total = sum(m.size for m in leaves)
    kept = sum(jnp.sum(m) for m in leaves)
    return 1.0 - kept / total
