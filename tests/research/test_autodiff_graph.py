"""Tests of research/autodiff/graph.py: the notes' graph values, the pass
counts of forward and reverse mode, and path counting on layered graphs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common.bench import compiled_costs
from research.autodiff import graph as G


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        yield


@pytest.mark.parametrize("mode", [G.forward_mode, G.reverse_mode])
def test_notes_graph_values(mode):
    result = mode(G.notes_graph, (jnp.array(2.0), jnp.array(1.0)))
    assert float(result.value) == 6.0
    assert [float(g) for g in result.gradient] == [2.0, 5.0]


def test_notes_graph_closed_form_elsewhere():
    # de/da = b + 1, de/db = a + 2b + 1
    a, b = jnp.array(-0.7), jnp.array(3.2)
    result = G.reverse_mode(G.notes_graph, (a, b))
    np.testing.assert_allclose(result.gradient, [4.2, -0.7 + 6.4 + 1.0], rtol=1e-15)


def test_forward_mode_needs_one_pass_per_input_reverse_one():
    def f(*xs):
        return jnp.prod(jnp.stack(xs)) + jnp.sum(jnp.stack(xs) ** 2)

    primals = tuple(jnp.array(float(i + 1)) for i in range(5))
    forward = G.forward_mode(f, primals)
    reverse = G.reverse_mode(f, primals)
    assert (forward.forward_passes, forward.backward_passes) == (5, 0)
    assert (reverse.forward_passes, reverse.backward_passes) == (1, 1)
    # d/dx_i: prod / x_i + 2 x_i
    expected = [120.0 / (i + 1) + 2 * (i + 1) for i in range(5)]
    np.testing.assert_allclose(forward.gradient, expected, rtol=1e-14)
    np.testing.assert_allclose(reverse.gradient, expected, rtol=1e-14)


def test_path_and_edge_counts_closed_form():
    assert G.path_count(3, 2) == 9  # the notes' 3 x 3 paths
    assert G.edge_count(3, 2) == 3 + 9 + 3
    weights = G.layered_graph_weights(np.random.default_rng(0), width=4, depth=5)
    assert sum(int(w.size) for w in weights) == G.edge_count(4, 5)


@pytest.mark.parametrize("width,depth", [(1, 1), (2, 3), (3, 2), (3, 4), (4, 3)])
def test_path_sum_forward_and_reverse_agree_with_jax(width, depth):
    weights = G.layered_graph_weights(np.random.default_rng(width * 10 + depth), width, depth)
    paths = G.path_sum(weights)
    forward = G.forward_accumulation(weights)
    reverse = G.reverse_accumulation(weights)
    autodiff = float(jax.grad(lambda x: G.layered_graph(weights, x))(jnp.array(0.3)))
    for result in (paths, forward, reverse):
        assert result.derivative == pytest.approx(autodiff, rel=1e-12, abs=1e-14)
    assert paths.items_visited == G.path_count(width, depth)
    assert paths.multiplications == (depth + 1) * width**depth
    assert forward.items_visited == reverse.items_visited == G.edge_count(width, depth)


def test_jvp_flops_grow_with_edges_not_paths():
    """XLA's FLOP count of a jvp through the graph is about 4 per edge (a
    multiply-add for the primal and one for the tangent), whatever the paths."""
    flops_per_edge = []
    for width, depth in [(8, 3), (8, 6)]:
        weights = G.layered_graph_weights(np.random.default_rng(1), width, depth)
        jvp = jax.jit(lambda ws, x, t: jax.jvp(lambda y: G.layered_graph(ws, y), (x,), (t,)))
        flops = compiled_costs(jvp, weights, jnp.array(1.0), jnp.array(0.5))["flops"]
        flops_per_edge.append(flops / G.edge_count(width, depth))
    assert 3.5 <= flops_per_edge[0] <= 4.5
    assert flops_per_edge[1] == pytest.approx(flops_per_edge[0], rel=0.1)
    # while the paths grew 8^3 = 512-fold
    assert G.path_count(8, 6) / G.path_count(8, 3) == 512
