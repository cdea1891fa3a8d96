"""The baselines of Bayes by Backprop's Table 1 (Blundell et al. 2015): a plain ReLU network and
the same network with dropout (Srivastava et al. 2014), trained by one step so that both run in
one compiled program (the dropout rate a member input)."""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from common.members import Members, with_hyperparams
from common.models import MLP
from common.nn import ACTIVATIONS, accuracy, softmax_cross_entropy
from common.train import apply_gradients, new_state, step_key
from research.bayes.noise import he_init


def dropout_step(model: MLP, optimizer: optax.GradientTransformation) -> Callable:
    """`supervised_step` of `model` (an MLP without dropout) with inverted dropout after every hidden
    layer at the rate in `state.member["dropout"]` (`common.nn.dropout`; at rate 0 every unit is kept
    and unscaled: the plain network), so the plain and dropout networks train in one program."""

    def apply(params, x, rate, key):
        act = ACTIVATIONS[model.activation]
        h = x.reshape(x.shape[0], -1)
        hidden, out = params["layers"][:-1], params["layers"][-1]
        for layer, layer_key in zip(hidden, jax.random.split(key, len(hidden))):
            h = act(h @ layer["w"] + layer["b"])
            keep = jax.random.bernoulli(layer_key, 1.0 - rate, h.shape)
            h = jnp.where(keep, h / (1.0 - rate), 0.0)
        return h @ out["w"] + out["b"]

    def step(state, batch):
        x, y = batch

        def objective(params):
            logits = apply(params, x, state.member["dropout"], step_key(state))
            return softmax_cross_entropy(logits, y), accuracy(logits, y)

        (loss, acc), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
        state, norms = apply_gradients(state, grads, optimizer)
        return state, {"loss": loss, "accuracy": acc, **norms}

    return step


def init_fn(sizes: tuple[int, ...], optimizer: optax.GradientTransformation) -> Callable:
    """init(key, member) of the swept program: He-initialized layers (`he_init`), the member's optimizer
    hyperparameters in the optimizer state (`with_hyperparams`) and its dropout rate in `state.member`."""

    def init(key, member):
        params = he_init(key, sizes)
        return new_state(params, with_hyperparams(optimizer.init(params), member), key, {},
                         member={"dropout": member["dropout"]})

    return init


def members(settings: list[tuple[float, float]]) -> Members:
    """Sweep members, one per (dropout rate, learning rate) of `settings` (rate 0: the plain network), as
    `dropout_step` and `init_fn` read them: the members of one compiled program."""
    inputs = {"dropout": jnp.array([rate for rate, _ in settings], jnp.float32),
              "learning_rate": jnp.array([lr for _, lr in settings], jnp.float32)}
    return Members(inputs, tuple({"dropout": rate, "learning_rate": lr} for rate, lr in settings))
