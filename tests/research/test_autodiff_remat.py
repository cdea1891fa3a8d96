"""Tests of research/autodiff/remat.py: the remat schedules compute the same
gradient, and XLA's memory analysis shows the memory each one is meant to save."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common.bench import compiled_costs
from research.autodiff import remat as R


@pytest.mark.parametrize("depth,segment", [(1, 1), (12, 3), (16, 4), (7, 1), (30, 5)])
def test_sqrt_segment_length_divides_depth_near_sqrt(depth, segment):
    assert R.sqrt_segment_length(depth) == segment


def test_schedules_give_identical_gradients_float64():
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        params = R.init_scanned_mlp(np.random.default_rng(0), depth=9, width=6, dtype=jnp.float64)
        x = jax.random.normal(jax.random.key(1), (4, 6))
        grads = {
            s: jax.jit(jax.grad(functools.partial(R.scanned_mlp_loss, schedule=s)))(params, x)
            for s in R.REMAT_SCHEDULES
        }
        for s in R.REMAT_SCHEDULES:
            for a, b in zip(jax.tree.leaves(grads[s]), jax.tree.leaves(grads["none"])):
                np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
        # and the gradient is the right one: a finite difference along the gradient
        eps = 1e-6
        g = grads["none"]
        loss = jax.jit(R.scanned_mlp_loss)
        shifted = [
            loss(jax.tree.map(lambda p, d, s=s: p + s * eps * d, params, g), x) for s in (1.0, -1.0)
        ]
        squared_norm = sum(jnp.vdot(a, a) for a in jax.tree.leaves(g))
        assert float((shifted[0] - shifted[1]) / (2 * eps)) == pytest.approx(
            float(squared_norm), rel=1e-7
        )


def _temp_bytes(fn, *args):
    return compiled_costs(fn, *args)["temp_bytes"]


def test_reverse_memory_linear_sqrt_and_jvp_flat():
    width, batch = 32, 128
    activation = batch * width * 4  # bytes of one float32 (batch, width) array
    x = jnp.ones((batch, width))
    temp = {}
    for depth in (16, 64):
        params = R.init_scanned_mlp(np.random.default_rng(0), depth, width)
        for s in R.REMAT_SCHEDULES:
            grad = jax.grad(functools.partial(R.scanned_mlp_loss, schedule=s))
            temp[s, depth] = _temp_bytes(grad, params, x)
        jvp = lambda p, t, x: jax.jvp(lambda q: R.scanned_mlp_loss(q, x), (p,), (t,))
        temp["jvp", depth] = _temp_bytes(jvp, params, params, x)
    # no remat: at least one stored activation per layer, growing ~4x for 4x depth
    assert temp["none", 64] >= 64 * activation
    assert 3.0 < temp["none", 64] / temp["none", 16] < 4.5
    # per-layer checkpoint: still linear, smaller
    assert temp["per_layer", 64] < temp["none", 64]
    # sqrt(L) segments: 4x depth costs ~2x memory (sqrt), far below linear
    assert temp["sqrt", 64] / temp["sqrt", 16] < 2.5
    assert temp["sqrt", 64] < temp["per_layer", 64]
    # jvp: flat in depth
    assert temp["jvp", 64] == temp["jvp", 16]


def test_compare_growth_tells_offset_linear_from_sqrt():
    depths = np.array([4, 9, 16, 25, 36, 49, 64], float)
    linear = R.compare_growth(depths, 40 + depths)  # a log-log slope reads this as ~0.4
    assert linear.linear_residual == pytest.approx(0.0, abs=1e-12) and linear.sqrt_margin < -0.04
    assert linear.linear_slope == pytest.approx(1.0)
    sqrt = R.compare_growth(depths, 3 + 2 * np.sqrt(depths))
    assert sqrt.sqrt_residual == pytest.approx(0.0, abs=1e-12) and sqrt.sqrt_margin > 0.03
    flat = R.compare_growth(depths, np.full(7, 5.0))
    assert flat.sqrt_margin == 0 and flat.linear_slope == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        R.compare_growth(depths[:2], depths[:2])


def test_the_synthetic_memory_curves_are_told_apart_by_the_margins():
    """The contract cases' exact curves: linear memory has a positive linear margin, sqrt(L) memory a positive
    sqrt margin (the same fits, opposite signs), and flat memory a zero slope."""
    arrays = R.memory_curves(none=R.linear_curve, sqrt=R.sqrt_curve, jvp=R.flat_curve)
    fits = {name: R.compare_growth(arrays["remat/depth"], arrays[f"remat/{name}/temp"]) for name in ("none", "sqrt")}
    assert fits["none"].linear_margin > 0.02 and fits["sqrt"].sqrt_margin > 0.02
    assert fits["none"].linear_margin == -fits["none"].sqrt_margin
    assert R.compare_growth(arrays["remat/depth"], arrays["remat/jvp/temp"]).linear_slope == pytest.approx(0.0, abs=1e-12)
