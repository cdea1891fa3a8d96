"""Iterative magnitude pruning with rewinding (Frankle & Carbin 2019; Frankle et al. 2020).

One IMP round: train, prune the smallest-magnitude surviving weights to the
next sparsity of the schedule, and reset the survivors to their values at the
rewind point (step 0 = the original init; an early step k = "late rewinding",
Frankle et al. 2020). The controls are the same mask on a fresh random init
(random reinit; Liu et al. 2019, Sec. 6) and a random mask with the same
layer-wise sparsities on the original init (random pruning).
"""

import jax
import numpy as np

from research.pruning.masked import apply_masks
from research.pruning.masks import (
    Scope,
    is_prunable,
    magnitude_masks_of_counts,
    pruned_counts,
    random_masks_like,
)


def imp_sparsities(rate: float, rounds: int) -> list[float]:
    """Sparsity after each round when every round prunes `rate` of the surviving weights.

    s_r = 1 - (1 - rate)^r (Frankle & Carbin 2019, Sec. 2: p^(1/n) % per round).
    """
    return [1.0 - (1.0 - rate) ** r for r in range(1, rounds + 1)]


def imp_step(trained, rewind_params, masks, counts, scope: Scope = "layer"):
    """Next IMP mask from the trained weights, and the rewound ticket (masked rewind point).

    `counts`: entries to prune in each pool of `scope` (`pruning_masks.pruned_counts` of the
    round's sparsity, or of each layer's own sparsity with the `layer` scope); they may be
    traced, so every round is one compiled program. The new mask only removes weights
    (pruned ones are ranked first), so masks are nested across rounds.
    Returns (masks, ticket_params).
    """
    new_masks = magnitude_masks_of_counts(trained, counts, scope, masks=masks)
    return new_masks, apply_masks(rewind_params, new_masks)


def random_reinit(fresh_params, masks):
    """The ticket's mask on an independent initialisation (Liu et al. 2019, Sec. 6)."""
    return apply_masks(fresh_params, masks)


def random_pruning(key, rewind_params, masks):
    """A random mask with the ticket's layer-wise sparsities, on the rewind point."""
    shuffled = random_masks_like(key, masks)
    return shuffled, apply_masks(rewind_params, shuffled)


def layer_rates(rate: float, output_rate: float, n_layers: int) -> list[float]:
    """Per-round pruning rate of each weight matrix: `rate`, the last (output) layer `output_rate`
    (Frankle & Carbin 2019, Sec. 2 and App.: the output layer at half the rate)."""
    return [rate] * (n_layers - 1) + [output_rate]


def layer_sparsities_after(rates: list[float], rounds: int) -> list[float]:
    """Each layer's sparsity after `rounds` rounds of pruning its own `rate` of the survivors."""
    return [1.0 - (1.0 - r) ** rounds for r in rates]


def round_counts(example, rate: float, output_rate: float | None, scope: Scope, round_: int) -> np.ndarray:
    """Weights pruned after `round_` rounds: per pool of `scope`, every layer at `rate`; with an
    `output_rate`, each layer at its own rate (the output layer's, layer scope)."""
    if output_rate is None:
        return np.array(pruned_counts(example, imp_sparsities(rate, round_)[-1], scope))
    rates = layer_rates(rate, output_rate, sum(is_prunable(w) for w in jax.tree.leaves(example)))
    return np.array(pruned_counts(example, layer_sparsities_after(rates, round_), "layer"))
