"""Tests of the cost-table tool (research/autodiff/costs.py): the derivatives it
times are the right ones (finite differences in float64), and XLA's FLOP and
memory figures show the costs the theory predicts."""

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import bench
from common.bench import Timing, TooSmallToTime, compiled_costs
from research.autodiff import costs as AD
from research.autodiff.memory import PEAK_REPORTED, PEAK_SUMMED


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
    table = AD.cost_table(_loss, params, x, rounds=3)
    by_name = {r.name: r for r in table.rows}
    assert [r.name for r in table.rows] == list(AD.TRANSFORM_ORDER)
    f = by_name["f"]
    assert f.time_ratio == f.flop_ratio == f.memory_ratio == 1.0 and f.time_interval is None
    assert f.cost.flops > 2 * 64 * 32 * 64  # at least the first matmul
    # Cheap gradient principle: grad costs a small constant times f (<= 5 FLOP-wise).
    assert 1.5 < by_name["grad"].flop_ratio <= 5.0
    assert 1.5 < by_name["jvp"].flop_ratio <= 5.0
    # Scalar output: jacrev is one vjp (about grad), jacfwd is one jvp per parameter.
    n_params = 32 * 64 + 64 * 4
    assert by_name["jacrev"].flop_ratio < 2 * by_name["grad"].flop_ratio
    assert by_name["jacfwd"].flop_ratio > 0.3 * n_params
    for r in table.rows[1:]:  # each ratio is the statistic its interval is for: inside it
        lo, hi = r.time_interval
        assert r.cost.seconds > 0 and lo <= r.time_ratio <= hi
    # residuals on the reverse-mode rows only; the peak holds at least the temporaries
    assert by_name["vjp"].residual_bytes == by_name["grad"].residual_bytes > 64 * 64 * 8
    assert by_name["f"].residual_bytes == by_name["jvp"].residual_bytes == by_name["jacfwd"].residual_bytes == 0
    assert all(r.peak.bytes >= r.cost.temp_bytes for r in table.rows)


def test_time_ratio_is_the_median_of_per_round_ratios(monkeypatch):
    """Rounds where median(jvp) / median(f) = 2 but the per-round ratios 4, 1, 1 have median 1:
    the table reports 1, the statistic its bootstrap interval describes."""
    seconds = {"f": np.array([1.0, 2.0, 4.0]), "jvp": np.array([4.0, 2.0, 4.0]),
               "f" + bench.AA_SUFFIX: np.array([1.0, 2.0, 4.0])}
    monkeypatch.setattr(bench, "interleaved", lambda programs, reference, **_: bench.Rounds(seconds, "f", ()))
    table = AD.cost_table(_loss, _mlp_params(jax.random.key(11)), jnp.ones((5, 6)), include=("f", "jvp"))
    jvp = table.row("jvp")
    assert jvp.time_ratio == 1.0 and jvp.cost.seconds / table.row("f").cost.seconds == 2.0
    assert jvp.time_interval[0] <= jvp.time_ratio <= jvp.time_interval[1]


def _fake_measure(calls):
    def measure(fn, *args):
        calls.append(fn)
        return Timing(compile_seconds=0.0, seconds=len(calls), min_seconds=len(calls), repeats=1, flops=0.0,
                      bytes_accessed=0.0, temp_bytes=0.0, argument_bytes=0.0, output_bytes=0.0)

    return measure


def test_jacobians_are_skipped_by_their_size_against_the_budget_and_the_measure_times():
    params = _mlp_params(jax.random.key(7))
    x = jnp.ones((5, 6))
    calls = []
    jacobian = (6 * 8 + 8 * 3) * (5 * 3) * 8  # inputs x outputs x float64 bytes
    table = AD.cost_table(_mlp, params, x, memory_budget=jacobian - 1, measure=_fake_measure(calls))
    assert len(calls) == 4  # f, jvp, vjp, grad
    for name in AD.JACOBIANS:
        note = table.row(name).note
        assert note.startswith("skipped: the Jacobian is ") and "> memory budget" in note
        assert math.isnan(table.row(name).cost.seconds)
    vjp = table.row("vjp")
    assert vjp.time_ratio == 3.0 and vjp.time_interval is None  # the measure's seconds: 3 over f's 1
    assert vjp.flop_ratio > 1  # FLOPs come from the tool's own compile, not from the measure


def test_a_jacobian_that_fits_is_formed_but_not_run_when_its_peak_exceeds_the_budget():
    """Budget = the Jacobian's bytes: it fits, but the program's peak (the Jacobian as output,
    plus its arguments) does not."""
    params = _mlp_params(jax.random.key(7))
    x = jnp.ones((5, 6))
    calls = []
    table = AD.cost_table(_mlp, params, x, memory_budget=(6 * 8 + 8 * 3) * (5 * 3) * 8,
                          measure=_fake_measure(calls))
    assert len(calls) == 4
    for name in AD.JACOBIANS:
        row = table.row(name)
        assert row.note.startswith("not run: XLA peak") and row.cost.flops > 0 and math.isnan(row.cost.seconds)


def test_jacrev_is_shown_for_a_wide_output_function_with_a_small_jacobian():
    """An 8 -> 8192 decoder: 8192 reverse passes, but a Jacobian of 64K entries (512 KiB in
    float64), within the default budget: both Jacobians are compiled and shown (the fake
    measure runs nothing; whether one is run is then decided by its XLA peak)."""
    def decoder(z, w):
        return jnp.tanh(z @ w)

    z, w = jnp.ones(8), jax.random.normal(jax.random.key(12), (8, 8192))
    table = AD.cost_table(decoder, z, w, measure=_fake_measure([]))
    assert table.memory_budget == AD.DEFAULT_MEMORY_BUDGET
    for name in AD.JACOBIANS:
        row = table.row(name)
        assert not row.note.startswith("skipped") and row.cost.flops > 0 and row.peak.bytes > 8192 * 8 * 8
    assert "not scalar" in table.row("grad").note


def test_loop_aware_flops_count_every_scan_iteration():
    """XLA counts a scan body once; the loop-aware count multiplies it by the length (10)."""
    def scanned(w, h):
        return jax.lax.scan(lambda c, _: (jnp.tanh(c @ w), None), h, None, length=10)[0]

    w, h = jnp.eye(32) / 2, jnp.ones((16, 32))
    f = AD.cost_table(scanned, w, h, include=("f",), measure=_fake_measure([])).row("f")
    matmul = 2 * 16 * 32 * 32
    assert f.loop_flops >= 10 * matmul and f.cost.flops < 2 * matmul


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


def test_tiny_programs_are_said_once_in_the_table_not_warned(monkeypatch):
    """A program under the timing floor: no TooSmallToTime warning leaves the tool; each row
    says so with its fastest round (the statistic that decided it) and the notes say it once.
    The floor is raised to 10 s so the verdict does not depend on this machine's load."""
    monkeypatch.setattr(bench, "MIN_TIMED_SECONDS", 10.0)
    params = _mlp_params(jax.random.key(9))
    x = jnp.ones((5, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error", TooSmallToTime)
        table = AD.cost_table(_loss, params, x, rounds=4, include=("f", "jvp", "grad"))
    assert [r.name for r in table.rows] == ["f", "jvp", "grad"]
    for r in table.rows:
        assert r.too_small and r.cost.repeats == 4
        assert f"too small to time (fastest round {r.cost.min_seconds * 1e6:.0f} us < 10000 ms)" in r.note
    for r in table.rows[1:]:
        assert r.time_interval[0] <= r.time_ratio <= r.time_interval[1]
    text = AD.format_cost_table(table)
    assert text.count("Too small to time: f, jvp, grad") == 1 and "A/A (f against itself)" in text


def test_compile_program_reads_the_figures_common_bench_reads():
    params = _mlp_params(jax.random.key(10), n_in=16, hidden=32)
    x = jnp.ones((8, 16))
    compiled = AD.compile_program(_loss, params, x)
    reference = compiled_costs(_loss, params, x)
    assert compiled.figures.flops == reference["flops"] and compiled.figures.temp_bytes == reference["temp_bytes"]
    np.testing.assert_allclose(compiled.run(), _loss(params, x), rtol=1e-14)
    assert compiled.peak.bytes >= compiled.figures.temp_bytes and compiled.peak.source in (
        PEAK_REPORTED, PEAK_SUMMED)
    assert compiled.loop.matmul == 2 * 8 * 16 * 32 + 2 * 8 * 32 * 3


def test_a_timing_claim_needs_seven_rounds():
    """Rounds of two programs, one twice as long: from 7 rounds the claimed ratio is 2 with an interval,
    from 3 it is not measured (a median's bootstrap interval from 3 rounds covers ~76%)."""
    def rounds(count):
        wobble = 1 + 0.01 * np.arange(count)
        return bench.Rounds({"a": 2e-3 * wobble, "b": 4e-3 * wobble, "a" + bench.AA_SUFFIX: 2e-3 * wobble[::-1]},
                            "a", ())

    assert AD.claimed_time_ratio(rounds(7), "b").value == pytest.approx(2.0)
    few = AD.claimed_time_ratio(rounds(3), "b")
    assert np.isnan(few.value) and "7 or more" in few.how
