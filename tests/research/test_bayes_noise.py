"""Normal draws in one loop are the per-key draws they replace, number for number (the
initializations built on them up to the rounding of the scaling)."""

import jax
import jax.numpy as jnp
import numpy as np

from common.models import MLP
from research.bayes import bbb as bayes
from research.bayes import noise as bayes_noise


def test_draws_in_one_loop_are_the_draws_of_each_key_and_shape():
    keys = jax.random.split(jax.random.key(0), 3)
    shapes = [(4, 6), (7,), (2, 3, 2)]  # different sizes: the rows are padded to the largest
    for dtype in (jnp.float32, None):
        got = bayes_noise.standard_normals(keys, shapes, dtype)
        for array, key, shape in zip(got, keys, shapes):
            np.testing.assert_array_equal(array, jax.random.normal(key, shape, dtype or float))
    signs = bayes_noise.in_one_loop(jax.random.rademacher, keys, shapes, jnp.float32)
    for array, key, shape in zip(signs, keys, shapes):
        np.testing.assert_array_equal(array, jax.random.rademacher(key, shape, jnp.float32))


def test_mlp_init_draws_the_layers_dense_init_draws():
    sizes = (3, 5, 2)
    params = bayes.mlp_init(jax.random.key(1), sizes, 0.1)
    for layer, key, d_in, d_out in zip(params, jax.random.split(jax.random.key(1), 2), sizes[:-1], sizes[1:]):
        for got, want in zip(layer, bayes.dense_init(key, d_in, d_out, 0.1)):
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_he_init_is_the_mlp_he_initialization():
    sizes = (3, 5, 4, 2)
    want, _ = MLP(sizes[1:-1], sizes[-1], init="he").init_variables(jax.random.key(2), jnp.zeros((1, sizes[0])))
    got = bayes_noise.he_init(jax.random.key(2), sizes)
    assert jax.tree.structure(got) == jax.tree.structure(want)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
