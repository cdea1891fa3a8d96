"""Tests of research/autodiff_profile.py against independent computations: FLOPs
of a matmul chain against the hand count, residual bytes of a known MLP under
each policy against the bytes of the arrays each policy saves, and the advice."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from research import autodiff_profile as P

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
    params, x = mlp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # microsecond programs: too small to time, by design here
        return P.profile(chain, params, x, rounds=2)


def test_residual_bytes_per_policy_are_the_arrays_each_policy_saves(mlp):
    params, x = mlp
    inputs = 4 * (A * H + H * C + B * A)  # float32 params and x: all nothing_saveable keeps
    dots = 4 * (B * H + B * C)  # the two matmul outputs
    policies = jax.checkpoint_policies
    assert P.residual_bytes(jax.checkpoint(tanh_mlp, policy=policies.nothing_saveable), params, x) == inputs
    # dots_saveable keeps both matmul outputs, and w1 is then needed by nothing (x @ w1 is saved)
    saved = P.residual_bytes(jax.checkpoint(tanh_mlp, policy=policies.dots_saveable), params, x)
    assert saved == inputs - 4 * A * H + dots
    # without remat: w2, x and per layer tanh's output and, depending on jax's tanh rule, its
    # derivative's factor 1 - y^2 as a second array (jax 0.10: both layers; 0.12: one fewer (B, C) array)
    plain = P.residual_bytes(tanh_mlp, params, x)
    assert 4 * (H * C + B * A + B * H + B * C) <= plain <= 4 * (H * C + B * A + 2 * B * H + 2 * B * C)
    assert plain > saved  # more than dots_saveable keeps


def test_flops_of_a_matmul_chain_match_the_hand_count(chain_profile):
    forward = 2 * B * A * H + 2 * B * H * C  # x @ w1, then @ w2
    assert chain_profile.f_flops == pytest.approx(forward + B * C, rel=0.02)  # plus the sum
    # grad in params: dw2 = h^T g (2BHC), dh = g w2^T (2BHC), dw1 = x^T dh (2BAH), plus the forward
    grad = chain_profile.row("none", "grad").flops
    assert grad == pytest.approx(forward + 2 * B * H * C * 2 + 2 * B * A * H, rel=0.05)
    # recomputation never removes work (whether XLA merges the recomputed forward with the first one
    # depends on the program: no hand count for the extra)
    assert chain_profile.row("nothing_saveable", "grad").flops >= grad


def test_rows_cover_every_policy_and_transform_and_aliases_say_so(chain_profile):
    assert {(r.policy, r.transform) for r in chain_profile.rows} == {
        (p, t) for p in P.POLICIES for t in P.TRANSFORMS}
    assert all(r.note == "same policy object as dots_saveable" or r.transform == "jacfwd"
               for r in chain_profile.rows if r.policy == "checkpoint_dots")
    assert chain_profile.row("none", "grad").time_vs_none is None
    lo, hi = chain_profile.row("nothing_saveable", "grad").time_vs_none.interval
    assert lo <= hi
    # 296 parameters, one output: jacrev (one vjp) needs fewer FLOPs than jacfwd (296 jvps)
    assert "use jacrev" in chain_profile.advice[0]
    text = P.format_profile(chain_profile)
    assert "A/A (f against itself)" in text and "Warning:" in text


def test_policy_advice_picks_the_fastest_policy_within_the_budget(chain_profile):
    none = chain_profile.row("none", "grad").temp_bytes
    assert "no policy fits" in P.policy_advice(chain_profile, memory_budget=-1.0)
    advice = P.policy_advice(chain_profile, memory_budget=none + 1)
    assert advice.startswith("Remat: within")


def test_profile_needs_the_no_remat_reference(mlp):
    with pytest.raises(ValueError, match="none"):
        P.profile(chain, *mlp, policies={"nothing_saveable": jax.checkpoint_policies.nothing_saveable})


def test_hvp_is_the_hessian_times_v(mlp):
    params, x = mlp
    t = P._hvp(tanh_mlp, params, (x,), jax.random.key(3))
    flat, unravel = ravel_pytree(params)
    hessian = jax.hessian(lambda q: tanh_mlp(unravel(q), x))(flat)
    v = ravel_pytree(t.args[1])[0]
    np.testing.assert_allclose(ravel_pytree(t.fn(*t.args))[0], hessian @ v, rtol=2e-4, atol=1e-4)
