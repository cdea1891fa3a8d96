"""Tests of research/autodiff/flops.py: counts (operations and traffic) match hand counts, and a scan body counts
once per iteration."""

import jax
import jax.numpy as jnp
import pytest

from research.autodiff import flops as F


def test_matmul_and_tanh_counted_per_element():
    w, x = jnp.ones((3, 5)), jnp.ones((4, 3))
    count = F.loop_aware_count(lambda w, x: jnp.tanh(x @ w) + 1.0, w, x)
    assert count.matmul == 2 * 4 * 3 * 5
    assert count.transcendental == 4 * 5
    assert count.elementwise == 4 * 5
    assert count.flops == count.matmul + count.transcendental + count.elementwise
    # traffic before fusion, float32: x @ w reads 12 + 15 and writes 20 numbers, tanh reads and writes 20,
    # + 1.0 reads 20 (the literal is in the instruction) and writes 20
    assert count.bytes == 4 * ((12 + 15 + 20) + (20 + 20) + (20 + 20))


def test_traffic_counts_operations_without_arithmetic():
    """A transpose and a sort move bytes and do no arithmetic: the operation count misses them, the traffic
    does not (each reads and writes the 8000 numbers)."""
    count = F.loop_aware_count(lambda t: jnp.sort(t.T), jnp.ones((1000, 8)))
    assert count.flops == 0
    assert count.bytes == 2 * (4 * 8000 * 2)


def test_scan_body_counted_length_times_and_matches_unrolled():
    w, h = jnp.ones((6, 6)), jnp.ones((2, 6))

    def scanned(w, h):
        return jax.lax.scan(lambda h, _: (jnp.tanh(h @ w), None), h, None, length=7)[0]

    def unrolled(w, h):
        for _ in range(7):
            h = jnp.tanh(h @ w)
        return h

    assert F.loop_aware_count(scanned, w, h) == F.loop_aware_count(unrolled, w, h)
    # and the gradient's backward scan is counted per iteration too: the scan also computes the first
    # step's carry cotangent (one (2, 6) x (6, 6) matmul) that the unrolled trace skips
    grad = lambda f: jax.grad(lambda w, h: jnp.sum(f(w, h)))  # noqa: E731
    extra = F.loop_aware_count(grad(scanned), w, h).matmul - F.loop_aware_count(grad(unrolled), w, h).matmul
    assert extra == 2 * 2 * 6 * 6


def test_checkpoint_recomputation_is_counted():
    w, h = jnp.ones((6, 6)), jnp.ones((2, 6))

    def loss(w, h, layer):
        return jnp.sum(jax.lax.scan(lambda h, _: (layer(h, w), None), h, None, length=4)[0])

    plain = lambda h, w: jnp.tanh(h @ w)  # noqa: E731
    saved = F.loop_aware_count(jax.grad(lambda w, h: loss(w, h, plain)), w, h)
    remat = F.loop_aware_count(jax.grad(lambda w, h: loss(w, h, jax.checkpoint(plain))), w, h)
    forward = F.loop_aware_count(lambda w, h: loss(w, h, plain), w, h)
    assert remat.matmul - saved.matmul == forward.matmul  # one extra forward pass of matmuls


def test_while_loop_flagged_as_unbounded():
    count = F.loop_aware_count(lambda x: jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0),
                                                            (0, x))[1], jnp.ones(3))
    assert count.unbounded_loops == 1


@pytest.mark.parametrize("pred", [True, False])
def test_cond_counts_the_larger_branch(pred):
    x = jnp.ones((4, 4))
    count = F.loop_aware_count(lambda x: jax.lax.cond(pred, lambda x: x @ x, lambda x: x + 1.0, x), x)
    assert count.matmul == 2 * 4 * 4 * 4
