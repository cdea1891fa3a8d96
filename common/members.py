"""Sweep members: per-member inputs that `common.train.fit` crosses with the seeds.

A `Members` record is a pytree of inputs whose leaves have a leading axis M
(learning rates and other traced hyperparameters, regularization weights,
masks, starting parameters) and one label dict per member. `fit(..., keys,
members=...)` runs M x S members (member-major: run m * S + s is member m with
seed s) in one compiled program, hands each its own inputs in `init(key,
inputs)`, stops each alone on divergence and labels each in the history and
metrics.jsonl by its seed and its label. This is purejaxrl's
`jit(vmap(train))` over configs with the trainer's guard, checkpoints and
resume.

    sweep = learning_rate_sweep(optax.adam, [1e-3, 3e-3, 1e-2])
    def init(key, member):
        params, model_state = model.init_variables(key, x_example)
        return new_state(params, with_hyperparams(sweep.optimizer.init(params), member), key, model_state)
    out = fit("lr-sweep", init=init, step=supervised_step(model, sweep.optimizer), ...,
              keys=seed_keys(0, 4), members=sweep.members)
    out.grid("eval/accuracy")                      # (points, 3 rates, 4 seeds)
"""

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

POSITIVE = ("learning_rate",)  # hyperparameters that must be > 0 in any grid


@dataclass(frozen=True)
class Members:
    """Inputs of M sweep members (a pytree, leaves with leading axis M, or (M, S) when
    `per_seed`: inputs drawn per seed as well, e.g. starting parameters) and their labels
    (one dict of plain values per member, e.g. {"learning_rate": 0.01})."""

    inputs: Any
    labels: tuple[dict, ...]
    per_seed: bool = False

    def __post_init__(self):
        object.__setattr__(self, "labels", tuple(dict(label) for label in self.labels))
        if not self.labels:
            raise ValueError("a sweep needs at least one member (the grid is empty)")
        for label in self.labels:
            _check_label(label)
        for leaf in jax.tree.leaves(self.inputs):
            shape = _shape(leaf)
            if len(shape) < 1 + self.per_seed or shape[0] != len(self.labels):
                axes = "(members, seeds, ...)" if self.per_seed else "(members, ...)"
                raise ValueError(f"member input of shape {shape} does not have the leading axes "
                                 f"{axes} with {len(self.labels)} members")

    @property
    def count(self) -> int:
        return len(self.labels)

    @classmethod
    def grid(cls, **values: Sequence[float]) -> "Members":
        """Every combination of the named hyperparameter values (the first name varies
        slowest); inputs are float32 arrays named like the hyperparameters."""
        if not values or any(len(v) == 0 for v in values.values()):
            raise ValueError(f"a sweep grid needs at least one value per hyperparameter (got {values})")
        names = list(values)
        combos = list(itertools.product(*(list(values[n]) for n in names)))
        labels = tuple({n: float(v) for n, v in zip(names, combo)} for combo in combos)
        for label in labels:
            _check_label(label)
        inputs = {n: jnp.asarray([c[i] for c in combos], jnp.float32) for i, n in enumerate(names)}
        return cls(inputs, labels)

    def for_runs(self, seeds: int):
        """The inputs with one leading run axis of M x S entries, member-major."""
        if self.per_seed:
            for leaf in jax.tree.leaves(self.inputs):
                if _shape(leaf)[1] != seeds:
                    raise ValueError(f"per-seed member input of shape {_shape(leaf)} does not have "
                                     f"{seeds} seeds on its second axis")
            return jax.tree.map(lambda a: _xp(a).reshape(a, (-1, *_shape(a)[2:])), self.inputs)
        return jax.tree.map(lambda a: _xp(a).repeat(_xp(a).asarray(a), seeds, axis=0), self.inputs)


def _xp(leaf):
    """numpy for a numpy input (host work: no program to compile), jax.numpy otherwise."""
    return np if isinstance(leaf, np.ndarray) else jnp


def _shape(leaf) -> tuple:
    return tuple(leaf.shape) if hasattr(leaf, "shape") else np.shape(leaf)


def _check_label(label: dict) -> None:
    for name, value in label.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ValueError(f"sweep value {name}={value} is not finite")
            if name in POSITIVE and value <= 0:
                raise ValueError(f"sweep value {name}={value} must be positive")


class LearningRateSweep(NamedTuple):
    optimizer: optax.GradientTransformation  # reads its learning rate from its state
    members: Members  # inputs {"learning_rate": (M,)}


def learning_rate_sweep(optimizer_factory: Callable[..., optax.GradientTransformation],
                        rates: Sequence[float], **fixed) -> LearningRateSweep:
    """An optimizer whose learning rate is a traced value in its state
    (`optax.inject_hyperparams`) and the members, one per rate; `init` puts the
    member's rate in with `with_hyperparams`. `fixed` are the factory's other
    arguments (e.g. b1=0.9), the same for every member."""
    members = Members.grid(learning_rate=rates)
    optimizer = optax.inject_hyperparams(optimizer_factory)(learning_rate=float(rates[0]), **fixed)
    return LearningRateSweep(optimizer, members)


def with_hyperparams(opt_state, inputs: dict):
    """`opt_state` of an `optax.inject_hyperparams` optimizer with the hyperparameters
    named in `inputs` replaced (others in `inputs`, e.g. masks, are ignored)."""
    hyper = dict(opt_state.hyperparams)
    for name, value in inputs.items():
        if name in hyper:
            hyper[name] = jnp.asarray(value, jnp.asarray(hyper[name]).dtype)
    return opt_state._replace(hyperparams=hyper)
