"""Tests of the cost-table tool (research/autodiff.py): the derivatives it
times are the right ones (finite differences in float64), and XLA's FLOP and
memory figures show the costs the theory predicts."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import bench
from common.bench import Timing, TooSmallToTime, compiled_costs
from research import autodiff as AD


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        yield


def _mlp_params(key, n_in=6, hidden=8, n_out=3):
    k1, k2 = jax.random.split(key)
    return {
        "w1": jax.random.normal(k1, (n_in, hidden)) / np.sqrt(n_in),
        "w2": jax.random.normal(k2, (hidden, n_out)) / np.sqrt(hidden),
    }


def _mlp(params, x):
    return jnp.tanh(x @ params["w1"]) @ params["w2"]


def _loss(params, x):
    return 0.5 * jnp.mean(_mlp(params, x) ** 2)


def _flat(tree):
    return jnp.concatenate([jnp.ravel(a) for a in jax.tree.leaves(tree)])


def _central_difference(f, params, direction, eps=1e-6):
    """(f(p + eps d) - f(p - eps d)) / (2 eps), leaves of f's output flattened."""
    plus = jax.tree.map(lambda p, d: p + eps * d, params, direction)
    minus = jax.tree.map(lambda p, d: p - eps * d, params, direction)
    return (_flat(f(plus)) - _flat(f(minus))) / (2 * eps)


def test_transforms_compute_the_derivatives_finite_differences_give():
    params = _mlp_params(jax.random.key(1))
    x = jax.random.normal(jax.random.key(2), (5, 6))
    by_name = {t.name: t for t in AD.derivative_transforms(_mlp, params, x)}
    tangents, cotangent = by_name["jvp"].args[0], by_name["vjp"].args[0]

    out, directional = by_name["jvp"].fn(*by_name["jvp"].args)
    np.testing.assert_allclose(out, _mlp(params, x), rtol=1e-15)
    expected = _central_difference(lambda p: _mlp(p, x), params, tangents[0])
    np.testing.assert_allclose(_flat(directional), expected, rtol=1e-7, atol=1e-9)

    # <vjp(u), t> = <u, jvp(t)>: the vjp is the transpose of the jvp.
    _, (pulled,) = by_name["vjp"].fn(*by_name["vjp"].args)
    np.testing.assert_allclose(
        jnp.vdot(_flat(pulled), _flat(tangents[0])),
        jnp.vdot(_flat(cotangent), _flat(directional)),
        rtol=1e-12,
    )

    # grad of a non-scalar f is the gradient of the sum of its outputs, and says so.
    assert "not scalar" in by_name["grad"].note
    total, (grad,) = by_name["grad"].fn(*by_name["grad"].args)
    np.testing.assert_allclose(total, jnp.sum(_mlp(params, x)), rtol=1e-14)
    fd = _central_difference(lambda p: jnp.sum(_mlp(p, x)), params, grad)
    np.testing.assert_allclose(fd, jnp.vdot(_flat(grad), _flat(grad)), rtol=1e-7)


def test_grad_of_scalar_function_has_no_note_and_matches_finite_differences():
    params = _mlp_params(jax.random.key(3))
    x = jax.random.normal(jax.random.key(4), (5, 6))
    grad_t = {t.name: t for t in AD.derivative_transforms(_loss, params, x)}["grad"]
    assert grad_t.note == ""
    _, (grad,) = grad_t.fn(*grad_t.args)
    for key in ("w1", "w2"):
        direction = jax.tree.map(jnp.zeros_like, params)
        direction[key] = direction[key].at[0, 1].set(1.0)
        fd = _central_difference(lambda p: _loss(p, x), params, direction)
        assert float(fd[0]) == pytest.approx(float(grad[key][0, 1]), rel=1e-7, abs=1e-11)


def test_cost_table_rows_ratios_and_cheap_gradient():
    params = _mlp_params(jax.random.key(5), n_in=32, hidden=64, n_out=4)
    x = jax.random.normal(jax.random.key(6), (64, 32))
    rows = AD.cost_table(_loss, params, x, repeats=2)
    by_name = {r.name: r for r in rows}
    assert [r.name for r in rows] == list(AD.TRANSFORM_ORDER)
    f = by_name["f"]
    assert f.time_ratio == f.flop_ratio == f.memory_ratio == 1.0
    assert f.cost.flops > 2 * 64 * 32 * 64  # at least the first matmul
    # Cheap gradient principle: grad costs a small constant times f (<= 5 FLOP-wise).
    assert 1.5 < by_name["grad"].flop_ratio <= 5.0
    assert 1.5 < by_name["jvp"].flop_ratio <= 5.0
    # Scalar output: jacrev is one vjp (about grad), jacfwd is one jvp per parameter.
    n_params = 32 * 64 + 64 * 4
    assert by_name["jacrev"].flop_ratio < 2 * by_name["grad"].flop_ratio
    assert by_name["jacfwd"].flop_ratio > 0.3 * n_params
    assert all(r.cost.seconds > 0 for r in rows)


def test_cost_table_skips_too_large_jacobians_and_uses_the_given_measure():
    params = _mlp_params(jax.random.key(7))
    x = jnp.ones((5, 6))
    calls = []

    def fake_measure(fn, *args):
        calls.append(fn)
        return Timing(
            compile_seconds=0.0, seconds=len(calls), min_seconds=len(calls), repeats=1,
            flops=10.0 * len(calls), bytes_accessed=0.0, temp_bytes=0.0, argument_bytes=8.0,
            output_bytes=0.0,
        )

    rows = AD.cost_table(_mlp, params, x, max_jacobian_passes=20, measure=fake_measure)
    by_name = {r.name: r for r in rows}
    n_in, m_out = 6 * 8 + 8 * 3, 5 * 3
    assert len(calls) == 5  # f, jvp, vjp, grad, jacrev; jacfwd (72 passes) is skipped
    assert by_name["jacfwd"].note == f"skipped: {n_in} inputs > max_jacobian_passes"
    assert math.isnan(by_name["jacfwd"].cost.seconds)
    assert m_out <= 20 and by_name["jacrev"].note == ""
    assert by_name["vjp"].time_ratio == 3.0 and by_name["vjp"].flop_ratio == 3.0


def test_reverse_mode_memory_exceeds_forward_mode_memory():
    """vjp holds the forward pass's intermediates, jvp does not."""
    params = _mlp_params(jax.random.key(8), n_in=64, hidden=512, n_out=64)
    x = jnp.ones((256, 64))
    by_name = {t.name: t for t in AD.derivative_transforms(_loss, params, x)}
    temp = {
        name: compiled_costs(by_name[name].fn, *by_name[name].args)["temp_bytes"]
        for name in ("jvp", "vjp")
    }
    hidden_activations = 256 * 512 * 8  # bytes of one float64 (batch, hidden) array
    assert temp["vjp"] >= hidden_activations
    assert temp["vjp"] > temp["jvp"]


def test_cost_table_times_in_interleaved_rounds_and_warns_on_tiny_programs(monkeypatch):
    """A program under the timing floor: every row gets an A/A-widened interval from the
    rounds, the warning is raised, and the formatted table says the times are overhead.
    The floor is raised to 10 s so the verdict does not depend on this machine's load."""
    monkeypatch.setattr(bench, "MIN_TIMED_SECONDS", 10.0)
    params = _mlp_params(jax.random.key(9))
    x = jnp.ones((5, 6))
    with pytest.warns(TooSmallToTime):
        rows = AD.cost_table(_loss, params, x, rounds=4, include=("f", "jvp", "grad"))
    assert [r.name for r in rows] == ["f", "jvp", "grad"]
    for r in rows:
        lo, hi = r.time_interval
        assert lo <= r.time_ratio <= hi and r.cost.repeats == 4
        assert r.too_small and "too small to time" in r.note
    assert rows[0].time_ratio == 1.0  # the median of f's rounds over itself
    text = AD.format_cost_table(rows)
    assert "Warning: f, jvp, grad ran under 10000 ms" in text and "A/A (f against itself)" in text


def test_compile_program_reads_the_figures_common_bench_reads():
    params = _mlp_params(jax.random.key(10), n_in=16, hidden=32)
    x = jnp.ones((8, 16))
    compiled = AD.compile_program(_loss, params, x)
    reference = compiled_costs(_loss, params, x)
    assert compiled.figures.flops == reference["flops"] and compiled.figures.temp_bytes == reference["temp_bytes"]
    np.testing.assert_allclose(compiled.run(), _loss(params, x), rtol=1e-14)
