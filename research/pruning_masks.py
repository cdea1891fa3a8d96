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

All functions are pure and traceable (they vmap over seeds).
"""

import math
from typing import Literal

import jax
import jax.numpy as jnp

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


def _keep_top(scores_flat: jax.Array, k_pruned: int) -> jax.Array:
    """Boolean mask keeping all but the `k_pruned` lowest scores (stable ranking)."""
    order = jnp.argsort(scores_flat, stable=True)
    n = scores_flat.shape[0]
    return jnp.zeros(n, dtype=bool).at[order[k_pruned:]].set(True)


def _scores(params, masks):
    """|w|, with entries already pruned scored -inf so that they are pruned first."""

    def score(p, m):
        s = jnp.abs(p).astype(jnp.float32)
        return s if m is None else jnp.where(m, s, -jnp.inf)

    if masks is None:
        return jax.tree.map(lambda p: score(p, None), params)
    return jax.tree.map(score, params, masks)


def masks_from_scores(scores, sparsity: float, scope: Scope = "layer"):
    """Keep the highest scores of each prunable leaf (`layer`), of all of them (`global`),
    or of all but the last (`global-dense-classifier`: sparsity is then the fraction pruned
    of the other weight matrices)."""
    leaves, treedef = jax.tree.flatten(scores)
    prunable = [i for i, s in enumerate(leaves) if is_prunable(s)]
    out = [jnp.ones(jnp.shape(s), dtype=bool) for s in leaves]
    if scope == "global-dense-classifier":
        if len(prunable) < 2:
            raise ValueError("global-dense-classifier needs a weight matrix besides the classifier")
        prunable, scope = prunable[:-1], "global"
    if scope == "layer":
        for i in prunable:
            s = leaves[i]
            out[i] = _keep_top(s.ravel(), n_pruned(sparsity, s.size)).reshape(s.shape)
    elif scope == "global":
        flat = jnp.concatenate([leaves[i].ravel() for i in prunable])
        keep = _keep_top(flat, n_pruned(sparsity, flat.shape[0]))
        start = 0
        for i in prunable:
            size = leaves[i].size
            out[i] = keep[start : start + size].reshape(leaves[i].shape)
            start += size
    else:
        raise ValueError(f"unknown scope {scope!r}")
    return jax.tree.unflatten(treedef, out)


def magnitude_masks(params, sparsity: float, scope: Scope = "layer", masks=None):
    """Prune the smallest |w| to the given total sparsity (Han et al. 2015).

    With `masks` (iterative pruning) the entries already pruned are pruned first,
    so the new mask is a subset of the old one whenever `sparsity` does not drop.
    """
    return masks_from_scores(_scores(params, masks), sparsity, scope)


def layerwise_magnitude_masks(params, sparsities, masks=None):
    """Prune each prunable leaf i (tree order) to its own sparsity `sparsities[i]`, smallest |w|
    first, entries already in `masks` pruned first (Frankle & Carbin 2019 prune the output
    layer at half the rate of the others)."""
    scores = _scores(params, masks)
    leaves, treedef = jax.tree.flatten(scores)
    prunable = [i for i, s in enumerate(leaves) if is_prunable(s)]
    if len(sparsities) != len(prunable):
        raise ValueError(f"{len(sparsities)} sparsities for {len(prunable)} weight matrices")
    out = [jnp.ones(jnp.shape(s), dtype=bool) for s in leaves]
    for i, target in zip(prunable, sparsities):
        s = leaves[i]
        out[i] = _keep_top(s.ravel(), n_pruned(target, s.size)).reshape(s.shape)
    return jax.tree.unflatten(treedef, out)


def _uniform_like(key, leaves):
    """One uniform draw cut into arrays shaped like `leaves` (one RNG call, cheap to compile)."""
    sizes = [int(jnp.size(x)) for x in leaves]
    flat = jax.random.uniform(key, (sum(sizes),))
    out, start = [], 0
    for x, size in zip(leaves, sizes):
        out.append(flat[start : start + size].reshape(jnp.shape(x)))
        start += size
    return out


def random_masks(key, params, sparsity: float, scope: Scope = "layer"):
    """Masks pruning uniformly random entries, with the same exact counts as magnitude masks."""
    leaves, treedef = jax.tree.flatten(params)
    scores = _uniform_like(key, leaves)
    return masks_from_scores(jax.tree.unflatten(treedef, scores), sparsity, scope)


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


def layer_sparsities(masks) -> list[jax.Array]:
    """Fraction pruned of each prunable leaf, in tree order."""
    return [1.0 - jnp.mean(m) for m in jax.tree.leaves(masks) if is_prunable(m)]
