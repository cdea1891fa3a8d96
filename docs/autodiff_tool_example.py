"""The two tables of docs/autodiff_tool.md, printed (regenerate the page's output with
`PYTHONPATH=. python docs/autodiff_tool_example.py`)."""

import jax
import jax.numpy as jnp

from research.autodiff import cost_table, format_cost_table
from research.autodiff_profile import format_profile, profile


def loss(params, x, y):  # any JAX function: your model and loss
    h = jnp.tanh(x @ params["w1"])
    return jnp.mean((h @ params["w2"] - y) ** 2)


k1, k2 = jax.random.split(jax.random.key(0))
params = {"w1": jax.random.normal(k1, (64, 256)) / 8, "w2": jax.random.normal(k2, (256, 8)) / 16}
x, y = jnp.ones((2048, 64)), jnp.zeros((2048, 8))
print(format_cost_table(cost_table(loss, params, x, y)))  # derivatives w.r.t. params (argnums=0)
print()
print(format_profile(profile(loss, params, x, y, memory_budget=4 * 2**20)))
