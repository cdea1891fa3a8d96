"""Functions to profile, as a user would bring them, and the Python example of
docs/autodiff_tool.md.

From the repository root `docs` is importable (a namespace package: no
__init__.py needed), so the command line finds these functions:

    python run.py profile docs.autodiff_tool_example:mlp_loss \
        --args 'f32[64,256]' 'f32[256]' 'f32[256,8]' 'f32[8]' 'f32[2048,64]' 'f32[2048,8]' --argnums 0,1,2,3
    python run.py profile docs.autodiff_tool_example:rnn_loss \
        --args 'f32[128,128]' 'f32[32,128]' 'f32[64,256,32]' --argnums 0,1

`PYTHONPATH=. python docs/autodiff_tool_example.py` prints the Python example's
cost table and profile.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp


class MLP(nn.Module):
    """A Flax two-layer tanh MLP."""

    hidden: int
    outputs: int

    @nn.compact
    def __call__(self, x):
        h = jnp.tanh(nn.Dense(self.hidden, name="hidden")(x))
        return nn.Dense(self.outputs, name="out")(h)


def mlp_loss(w1, b1, w2, b2, x, y):
    """Mean squared error of the Flax MLP, its parameters passed as arrays (the command
    line builds arrays from shapes): w1 (inputs, hidden), b1 (hidden,), w2 (hidden, outputs),
    b2 (outputs,), x (batch, inputs), y (batch, outputs)."""
    variables = {"params": {"hidden": {"kernel": w1, "bias": b1}, "out": {"kernel": w2, "bias": b2}}}
    return jnp.mean((MLP(w1.shape[1], w2.shape[1]).apply(variables, x) - y) ** 2)


def rnn_loss(w_h, w_x, xs):
    """A tanh RNN scanned over time, h_t = tanh(h_{t-1} W_h + x_t W_x) from h_0 = 0, with
    w_h (hidden, hidden), w_x (features, hidden), xs (time, batch, features); the loss is
    half the mean square of the last state. One `lax.scan`: XLA counts its body once."""
    h0 = jnp.zeros((xs.shape[1], w_h.shape[0]), xs.dtype)

    def step(h, x):
        return jnp.tanh(h @ w_h + x @ w_x), None

    h, _ = jax.lax.scan(step, h0, xs)
    return 0.5 * jnp.mean(h**2)


def loss(params, x, y):  # the Python example: any JAX function of a parameter pytree
    h = jnp.tanh(x @ params["w1"])
    return jnp.mean((h @ params["w2"] - y) ** 2)


def main() -> None:
    from research.autodiff import cost_table, format_cost_table
    from research.autodiff.profile import profile
    from research.autodiff.profile_format import format_profile

    k1, k2 = jax.random.split(jax.random.key(0))
    params = {"w1": jax.random.normal(k1, (64, 256)) / 8, "w2": jax.random.normal(k2, (256, 8)) / 16}
    x, y = jnp.ones((2048, 64)), jnp.zeros((2048, 8))
    print(format_cost_table(cost_table(loss, params, x, y)))  # derivatives w.r.t. params (argnums=0)
    print()
    print(format_profile(profile(loss, params, x, y, memory_budget=4 * 2**20)))  # budget in bytes


if __name__ == "__main__":
    main()
