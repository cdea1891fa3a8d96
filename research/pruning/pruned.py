"""Pruned networks ready to retrain (Liu et al. 2019, Sec. 4): L1-norm pruning of every
hidden layer's units (a smaller network, Li et al. 2017) or magnitude masks on the large
one, each with the survivors' trained weights, a fresh init for Scratch-E/B, the survivors'
test accuracy and the FLOPs that set Scratch-B's budget. Seeds lead every array.
"""

from typing import Literal, NamedTuple

import jax
import numpy as np

from research.pruning.criterion import Curve
from research.pruning.flops import network_flops
from research.pruning.masks import pruned_counts
from research.pruning.programs import (
    host,
    ones_like,
    structured_program,
    unstructured_program,
)


class Setting(NamedTuple):
    """One way of pruning one model."""

    model: str  # "mlp" or "cnn"
    kind: Literal["structured", "unstructured"]
    amount: float  # fraction of units (structured) or weights (unstructured) removed

    def label(self) -> str:
        return f"{self.model} {self.kind} {self.amount:.0%}"


class Large(NamedTuple):
    """A trained large model: what every pruning setting starts from."""

    kind: str
    model: object
    trained: dict  # params (host arrays)
    accuracy: np.ndarray  # test accuracy (seeds,)
    example: dict  # seed 0's initial params: shapes for FLOP counts
    positions: list  # `flops.weight_positions` of the large model
    flops: float
    training: Curve  # its validation curve as the training criterion reads it


class Pruned(NamedTuple):
    """A pruned network: the surviving trained weights, a fresh init, the masks the optimizer keeps."""

    setting: Setting
    model: object  # the network retrained
    architecture: tuple[int, ...]  # its layer widths
    survivors: dict
    fresh: dict
    masks: dict
    not_retrained: np.ndarray  # test accuracy of the survivors (seeds,)
    flops: float
    large_flops: float


def structured(large: Large, small_model, ratio: float, keys, x1, x_test, y_test) -> Pruned:
    """L1-norm pruning of `ratio` of every hidden layer's units into `small_model`'s shapes."""
    survivors, fresh, untrained = host(structured_program(large.model, small_model, ratio)(
        large.trained, keys, x1, x_test, y_test))
    widths = tuple(layer["w"].shape[-1] for layer in survivors["layers"])
    flops = network_flops(jax.tree.map(lambda a: a[0], fresh), large.positions)
    return Pruned(Setting(large.kind, "structured", ratio), small_model, widths, survivors, fresh,
                  ones_like(fresh), untrained, flops, large.flops)


def unstructured(large: Large, sparsity: float, scope: str, fresh, x_test, y_test) -> Pruned:
    """Magnitude masks of `sparsity` over the pools of `scope`; `fresh` is the large architecture's
    Scratch init."""
    counts = np.array(pruned_counts(large.example, sparsity, scope))
    masks, survivors, untrained = host(unstructured_program(large.model, scope)(large.trained, counts, x_test, y_test))
    flops = network_flops(large.example, large.positions, jax.tree.map(lambda a: a[0], masks))
    widths = tuple(layer["w"].shape[-1] for layer in large.example["layers"])
    return Pruned(Setting(large.kind, "unstructured", sparsity), large.model, widths, survivors, fresh, masks,
                  untrained, flops, large.flops)

