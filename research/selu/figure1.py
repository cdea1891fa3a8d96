"""Initial variables of Figure 1's networks (``snn.DeepMLP``), drawn once for every depth.

One draw per init kind at its largest depth, cut to each depth on the host
(``DeepMLP.truncated``: the same numbers as a draw at that depth): one random-number
program instead of one per network (threefry compiles slowly on the CPU).
"""

import jax
import numpy as np

from research.selu.snn import DeepMLP


def init_kind(model: DeepMLP) -> str:
    """What decides a network's initial variables (not its activation or dropout)."""
    return f"{model.init}{' + BatchNorm' if model.batchnorm else ''}"


def initial_variables(models: list[DeepMLP], x_example, keys) -> dict:
    """{kind: (deepest network of that kind, its (params, model_state) per seed, numpy)} for the kinds
    among `models`, drawn at their largest depth in one program."""
    deepest = {}
    for model in models:
        kind = init_kind(model)
        if kind not in deepest or model.depth > deepest[kind].depth:
            deepest[kind] = model
    draw = jax.jit(jax.vmap(lambda key: {kind: m.init_variables(key, x_example) for kind, m in deepest.items()}))
    return {kind: (deepest[kind], jax.tree.map(np.asarray, variables)) for kind, variables in draw(keys).items()}


def start_of(drawn: dict, model: DeepMLP, seeds: int):
    """`model`'s initial (params, model_state) per seed (leading seeds axis), cut from `drawn` seed by
    seed on the host (numpy: no program to compile)."""
    deepest, variables = drawn[init_kind(model)]
    each = [deepest.truncated(*jax.tree.map(lambda a, s=s: a[s], variables), model.depth) for s in range(seeds)]
    return jax.tree.map(lambda *per_seed: np.stack(per_seed), *each)
