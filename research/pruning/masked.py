"""Pruning masks as an optax wrapper: the masks live in the optimizer state.

The shape follows jaxpruner's `wrap_optax` and optax itself: `masked(inner)` is
a `GradientTransformation` whose `init` and `update` are pure and whose state
`MaskedState(masks, inner_state)` is a pytree. Masks are therefore saved with
every checkpoint, carried through `lax.scan`, vmapped over seeds and sharded
with the rest of the training state, at no extra cost to the caller.

How pruned weights stay exactly zero. Masking only the gradient is not enough:
AdamW's decoupled weight decay adds `-lr * wd * w` to every weight, and an
optimizer state built before the mask was set (momentum, Adam moments) keeps
pushing a weight after its gradient is zeroed. So the wrapper masks both ends:

1. the gradient of a pruned entry is replaced by 0 before the inner optimizer
   sees it (its moments then decay to zero and carry no stale direction);
2. the inner optimizer's update of a pruned entry is replaced by `-w`, so that
   `optax.apply_updates` computes `w + (-w)`, which is exactly 0.0 in IEEE
   arithmetic for any finite `w` (kept entries pass through unchanged).

Because of (2) a parameter that was not zeroed when its mask was set is zeroed
by the first step; `apply_masks` zeroes it at once.

The wrapper must be the outermost transformation, so that `update` sees the
final updates and `set_masks` finds the state at the top.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class MaskedState(NamedTuple):
    """Optimizer state of `masked`: boolean masks shaped like the params (True = kept)."""

    masks: optax.Params
    inner_state: optax.OptState


def dense_masks(params: optax.Params) -> optax.Params:
    """All-True masks shaped like `params` (nothing pruned)."""
    return jax.tree.map(lambda p: jnp.ones(jnp.shape(p), dtype=bool), params)


def apply_masks(params: optax.Params, masks: optax.Params) -> optax.Params:
    """Pruned entries set to exactly zero; kept entries untouched."""
    return jax.tree.map(lambda p, m: jnp.where(m, p, jnp.zeros_like(p)), params, masks)


def masked(inner: optax.GradientTransformation) -> optax.GradientTransformation:
    """`inner` with pruning masks kept in its state; pruned weights stay exactly zero.

    `init(params)` starts with nothing pruned; set masks with `set_masks`.
    `update` requires `params` (the pruned update is `-param`).
    """

    def init_fn(params):
        return MaskedState(masks=dense_masks(params), inner_state=inner.init(params))

    def update_fn(updates, state, params=None, **extra_args):
        if params is None:
            raise ValueError("masked(...).update needs params: pruned updates are -param.")
        grads = apply_masks(updates, state.masks)
        inner_updates, inner_state = inner.update(grads, state.inner_state, params, **extra_args)
        # Pruned entries: update = -w so that w + update == 0 exactly.
        final = jax.tree.map(
            lambda u, p, m: jnp.where(m, u, -p.astype(u.dtype)), inner_updates, params, state.masks
        )
        return final, MaskedState(masks=state.masks, inner_state=inner_state)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def set_masks(state: MaskedState, masks: optax.Params) -> MaskedState:
    """The same optimizer state with new masks (inner moments are kept as they are)."""
    masks = jax.tree.map(lambda m: jnp.asarray(m, dtype=bool), masks)
    return state._replace(masks=masks)
