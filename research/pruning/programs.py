"""The pruning experiments' models and compiled pruning programs: each program is
jit(vmap over seeds) of one pure step, cached per model, so every call with
same-shaped inputs reuses one compiled program (the rounds of an IMP chain, every
unstructured sparsity of one model).
"""

import functools
from typing import NamedTuple

import jax
import numpy as np

from common.models import CNN, MLP
from common.nn import accuracy
from research.pruning.lottery import imp_step, random_pruning, random_reinit
from research.pruning.masked import apply_masks
from research.pruning.masks import magnitude_masks_of_counts, sparsity
from research.pruning.structured import l1_keep_indices, n_kept, prune_units

MODELS = {
    "mlp": lambda widths, classes, kernel: MLP(tuple(widths), classes),
    "cnn": lambda widths, classes, kernel: CNN(tuple(widths), classes, kernel=kernel, stride=2,
                                               padding=kernel // 2),
}


def make_model(kind: str, widths, num_classes: int, kernel: int):
    """An MLP of hidden `widths`, or a CNN of `widths` channels (stride 2, 'same' padding)."""
    return MODELS[kind](widths, num_classes, kernel)


def host(tree):
    """Host (numpy) copies: the inputs of a jitted function keep one kind whatever produced
    them, so it compiles once, and slicing them costs no compile."""
    return jax.tree.map(np.asarray, tree)


def ones_like(tree):
    """Dense masks (host booleans) shaped like `tree`."""
    return jax.tree.map(lambda a: np.ones(a.shape, bool), tree)


@functools.cache
def initializer(model):
    """jit(vmap over seed keys) of the model's initial params; the example input traced."""
    return jax.jit(jax.vmap(lambda k, x1: model.init_variables(k, x1)[0], in_axes=(0, None)))


def pruned_widths(example, ratio: float) -> tuple[int, ...]:
    """Hidden widths left by L1-norm pruning of `ratio` of every hidden layer's units."""
    return tuple(n_kept(ratio, layer["w"].shape[-1]) for layer in example["layers"][:-1])


@functools.cache
def structured_program(large_model, small_model, ratio: float):
    """L1-norm pruning at `ratio` (Li et al. 2017; it sets the small shapes): the survivors,
    the small network's fresh init and the survivors' test accuracy."""

    def prune(trained, key, x1, x, y):
        survivors = {"layers": prune_units(trained["layers"], l1_keep_indices(trained["layers"], ratio))}
        fresh = small_model.init_variables(jax.random.fold_in(key, 1), x1)[0]
        return survivors, fresh, accuracy(small_model.apply(survivors, {}, x)[0], y)

    return jax.jit(jax.vmap(prune, in_axes=(0, 0, None, None, None)))


@functools.cache
def unstructured_program(model, scope):
    """Magnitude pruning to traced counts: masks, survivors and the survivors' test accuracy;
    one program for every sparsity."""

    def prune(trained, counts, x, y):
        masks = magnitude_masks_of_counts(trained, counts, scope)
        survivors = apply_masks(trained, masks)
        return masks, survivors, accuracy(model.apply(survivors, {}, x)[0], y)

    return jax.jit(jax.vmap(prune, in_axes=(0, None, None, None)))


class RoundStart(NamedTuple):
    """What one IMP round trains (seeds leading): the ticket and its two controls."""

    masks: dict
    ticket: dict
    reinit: dict
    random_masks: dict
    random_params: dict
    sparsity: jax.Array  # overall sparsity of the new masks, per seed


@functools.cache
def round_program(model, scope):
    """One IMP round's start (Frankle & Carbin 2019): the next masks, the rewound ticket, the
    random reinit and the random mask, and the masks' overall sparsity. Counts, keys and the
    example input are traced, so every round and chain shares one program."""

    def start(trained, rewind, masks, counts, init_key, shuffle_key, x1):
        new_masks, ticket = imp_step(trained, rewind, masks, counts, scope)
        reinit = random_reinit(model.init_variables(init_key, x1)[0], new_masks)
        random_m, random_p = random_pruning(shuffle_key, rewind, new_masks)
        return RoundStart(new_masks, ticket, reinit, random_m, random_p, sparsity(new_masks))

    return jax.jit(jax.vmap(start, in_axes=(0, 0, 0, None, 0, 0, None)))
