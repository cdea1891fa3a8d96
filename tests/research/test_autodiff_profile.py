"""Tests of research/autodiff/profile.py against independent computations: FLOPs
of a matmul chain against the hand count, residual bytes of a known MLP under
each policy against the bytes of the arrays each policy saves, and the advice
rule (speed only when a time interval clears 1, else memory)."""

import dataclasses
import json
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from common import bench, stats
from research.autodiff import profile as P
from research.autodiff.memory import residual_bytes
from research.autodiff.profile_format import format_profile, profile_csv, profile_json

B, A, H, C = 16, 8, 32, 4  # batch, inputs, hidden, outputs


@pytest.fixture(scope="module")
def mlp():
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    params = {"w1": jax.random.normal(k1, (A, H)), "w2": jax.random.normal(k2, (H, C))}
    return params, jax.random.normal(k3, (B, A))


def tanh_mlp(params, x):
    return jnp.sum(jnp.tanh(jnp.tanh(x @ params["w1"]) @ params["w2"]))


def chain(params, x):
    return jnp.sum(x @ params["w1"] @ params["w2"])


@pytest.fixture(scope="module")
def chain_profile(mlp):
    """Microsecond programs, with the timing floor raised to 10 s so every one is too small to
    time whatever this machine's load; no TooSmallToTime warning may leave the tool."""
    params, x = mlp
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        patch.setattr(bench, "MIN_TIMED_SECONDS", 10.0)
        warnings.simplefilter("error", bench.TooSmallToTime)
        return P.profile(chain, params, x, rounds=3)


def test_residual_bytes_per_policy_are_the_arrays_each_policy_saves(mlp):
    params, x = mlp
    inputs = 4 * (A * H + H * C + B * A)  # float32 params and x: all nothing_saveable keeps
    dots = 4 * (B * H + B * C)  # the two matmul outputs
    policies = jax.checkpoint_policies
    assert residual_bytes(jax.checkpoint(tanh_mlp, policy=policies.nothing_saveable), params, x) == inputs
    # dots_saveable keeps both matmul outputs, and w1 is then needed by nothing (x @ w1 is saved)
    saved = residual_bytes(jax.checkpoint(tanh_mlp, policy=policies.dots_saveable), params, x)
    assert saved == inputs - 4 * A * H + dots
    # without remat: w2, x and per layer tanh's output and, depending on jax's tanh rule, its
    # derivative's factor 1 - y^2 as a second array (jax 0.10: both layers; 0.12: one fewer (B, C) array)
    plain = residual_bytes(tanh_mlp, params, x)
    assert 4 * (H * C + B * A + B * H + B * C) <= plain <= 4 * (H * C + B * A + 2 * B * H + 2 * B * C)
    assert plain > saved  # more than dots_saveable keeps
    # with respect to x instead (argnums=1): w1 @ ... still saved, x needed by nothing
    assert residual_bytes(jax.checkpoint(tanh_mlp, policy=policies.nothing_saveable), params, x, argnums=1) > 0


def test_flops_of_a_matmul_chain_match_the_hand_count(chain_profile):
    forward = 2 * B * A * H + 2 * B * H * C  # x @ w1, then @ w2
    assert chain_profile.f.flops == pytest.approx(forward + B * C, rel=0.02)  # plus the sum
    assert chain_profile.f.loop_flops == pytest.approx(forward + B * C, rel=0.02)  # no loop: the same count
    # grad in params: dw2 = h^T g (2BHC), dh = g w2^T (2BHC), dw1 = x^T dh (2BAH), plus the forward
    grad = chain_profile.row("none", "grad").flops
    assert grad == pytest.approx(forward + 2 * B * H * C * 2 + 2 * B * A * H, rel=0.05)
    # recomputation never removes work (whether XLA merges the recomputed forward with the first one
    # depends on the program: no hand count for the extra)
    assert chain_profile.row("nothing_saveable", "grad").flops >= grad


def test_each_distinct_policy_once_and_every_ratio_inside_its_interval(chain_profile):
    distinct, aliases = P.distinct_policies(P.POLICIES)
    pairs = [(r.policy, r.transform) for r in chain_profile.rows]
    assert len(pairs) == len(set(pairs))  # no duplicate rows
    assert set(pairs) == {("none", t) for t in P.TRANSFORMS} | {
        (p, t) for p in distinct if p != "none" for t in P.TRANSFORMS[1:]}
    assert chain_profile.aliases == aliases
    for alias, name in aliases.items():  # checkpoint_dots is dots_saveable in current jax
        assert alias not in {r.policy for r in chain_profile.rows}
        assert any(alias in note and name in note for note in chain_profile.notes)
    assert chain_profile.row("none", "grad").time_vs_none is None
    for r in chain_profile.rows:
        for m in (r.time_over_f, r.time_vs_none):
            if m is not None and m.interval is not None:
                assert m.interval[0] <= m.value <= m.interval[1]
        assert r.peak_bytes >= r.temp_bytes
        assert r.residual_bytes > 0 if r.transform in ("vjp", "grad", "jacrev", "hvp") else r.residual_bytes == 0
    # 296 parameters, one output: jacrev (one vjp) needs fewer FLOPs than jacfwd (296 jvps)
    assert "use jacrev" in chain_profile.advice[0]
    text = format_profile(chain_profile)
    assert "A/A (f against itself)" in text and text.count("Too small to time:") == 1


def _with_grads(p: P.Profile, figures: dict) -> P.Profile:
    """`p` with each named policy's grad row given (peak bytes, loop FLOPs, time-vs-none interval)."""
    rows = []
    for r in p.rows:
        if r.transform == "grad" and r.policy in figures:
            peak, flops, interval = figures[r.policy]
            versus = None if interval is None else stats.Measurement(sum(interval) / 2, interval)
            r = dataclasses.replace(r, peak_bytes=peak, loop_flops=flops, time_vs_none=versus)
        rows.append(r)
    return dataclasses.replace(p, rows=rows)


def test_advice_is_by_memory_when_every_time_interval_straddles_one(chain_profile):
    p = _with_grads(chain_profile, {"none": (100.0, 10.0, None), "nothing_saveable": (60.0, 15.0, (0.5, 1.2)),
                                    "dots_saveable": (60.0, 12.0, (0.9, 1.1))})
    advice = P.policy_advice(p, memory_budget=80.0)
    assert advice.startswith("Remat: within") and "use dots_saveable" in advice  # equal peaks: fewer FLOPs
    assert "chosen by memory" in advice
    assert P.policy_advice(p, memory_budget=80.0) == advice  # nothing random decides it
    assert "use none" in P.policy_advice(_with_grads(p, {"dots_saveable": (100.0, 12.0, (0.9, 1.1)),
                                                         "nothing_saveable": (100.0, 15.0, (0.5, 1.2))}), 200.0)


def test_advice_is_for_speed_only_when_an_interval_lies_below_one(chain_profile):
    p = _with_grads(chain_profile, {"none": (100.0, 10.0, None), "nothing_saveable": (60.0, 15.0, (0.5, 0.9)),
                                    "dots_saveable": (50.0, 12.0, (0.9, 1.1))})
    advice = P.policy_advice(p, memory_budget=80.0)
    assert "use nothing_saveable" in advice and "chosen for speed" in advice
    assert "no policy's grad peak fits" in P.policy_advice(p, memory_budget=10.0)


def test_profile_differentiates_the_arguments_argnums_names(mlp):
    params, x = mlp

    def f(x, w):
        return jnp.tanh(x @ w)  # not scalar: no HVP

    for argnums, inputs in ((0, B * A), (1, A * H), ((0, 1), B * A + A * H)):
        p = P.profile(f, x, params["w1"], argnums=argnums, policies={"none": None}, rounds=2)
        assert p.inputs == inputs and p.outputs == B * H
        assert p.row("none", "hvp").note == P.NOT_SCALAR
        assert p.row("none", "grad").flops > p.f.flops


def test_profile_needs_the_no_remat_reference(mlp):
    with pytest.raises(ValueError, match="none"):
        P.profile(chain, *mlp, policies={"nothing_saveable": jax.checkpoint_policies.nothing_saveable})


def test_hvp_is_the_hessian_times_v(mlp):
    params, x = mlp
    t = P.hvp_transform(tanh_mlp, (params, x), 0, jax.random.key(3))
    flat, unravel = ravel_pytree(params)
    hessian = jax.hessian(lambda q: tanh_mlp(unravel(q), x))(flat)
    v = ravel_pytree(t.args[0])[0]
    np.testing.assert_allclose(ravel_pytree(t.fn(*t.args))[0], hessian @ v, rtol=2e-4, atol=1e-4)


def test_csv_and_json_hold_every_row(chain_profile):
    lines = profile_csv(chain_profile).splitlines()
    assert lines[0].startswith("policy,transform,seconds") and len(lines) == 1 + len(chain_profile.rows)
    data = json.loads(profile_json(chain_profile))
    assert len(data["rows"]) == len(chain_profile.rows) and data["advice"] == chain_profile.advice
    assert data["rows"][0]["transform"] == "f" and data["rows"][0]["time_over_f"] == 1.0
