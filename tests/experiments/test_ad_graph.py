"""ad-graph on a shrunk config: every claim holds with JAX's jvp and vjp, and none
with a jvp that returns twice the derivative and a vjp with a junk pullback; the
properties that hold by construction (the harness's pass counts, edges visited,
paths outgrowing edges) are checked here as properties of the code, not claimed."""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common.experiment import evaluate_claims
from common.runs import Session
from experiments.autodiff import graph as E
from research.autodiff import graph as G
from research.autodiff import graph_study as S

SHRUNK = dataclasses.replace(E.PRESETS["quick"], seeds=1, harness_inputs=(2, 5), input_counts=(8, 64), widths=(2, 3),
                             max_depth=4, max_enumerated_paths=100)


def doubled_jvp(f, primals, tangents):
    """A jvp that returns twice the derivative (the primal right)."""
    value, tangent = jax.jvp(f, primals, tangents)
    return value, jax.tree.map(lambda t: 2 * t, tangent)


def junk_vjp(f, *primals):
    """A vjp whose pullback ignores f: a half for every input, times the cotangent's sum."""
    value = f(*primals)
    return value, lambda u: tuple(jnp.full_like(p, 0.5) * jnp.sum(u) for p in primals)


WRONG = {"doubled jvp": G.Autodiff("doubled jvp", doubled_jvp, jax.vjp),
         "junk pullback": G.Autodiff("junk pullback", jax.jvp, junk_vjp),
         "both": G.Autodiff("doubled jvp, junk pullback", doubled_jvp, junk_vjp)}


def test_ad_graph_shrunk_run_reproduces_every_claim(tmp_path):
    results = E.run(SHRUNK, Session(None))
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert [o.statement for o in outcomes if o.verdict != "reproduced"] == []
    assert all(o.control.verdict == "not reproduced" for o in outcomes)
    assert results.scalars["layered/jvp_max_gap"] < 1e-14 and results.scalars["layered/vjp_max_gap"] < 1e-14
    np.testing.assert_array_equal(results.arrays["layered/w3/paths"], [3, 9, 27, 81])
    assert 3.5 < results.scalars["layered/jvp_per_edge"] < 4.5
    E.figures(results, tmp_path)
    assert (tmp_path / "paths_and_passes.png").exists()


@pytest.mark.parametrize("wrong", WRONG)
def test_wrong_derivatives_fail_the_claims_of_their_mode(wrong):
    """The claims that read the broken primitive say anything but "reproduced"; those that read only the
    correct one still hold (the test is of the claims, not of a run that fails everywhere)."""
    autodiff = WRONG[wrong]
    outcomes = {c.statement: o for c, o in zip(E.CLAIMS, evaluate_claims(E.CLAIMS, E.measure(SHRUNK, autodiff)))}
    broken = {"forward", "jvp"} if wrong == "doubled jvp" else {"reverse", "vjp"} if wrong == "junk pullback" \
        else {"forward", "jvp", "reverse", "vjp"}

    def reads_broken(statement):
        return statement.startswith("the notes'") or any(
            statement.startswith(prefix) for mode, prefix in (("jvp", "a jvp"), ("vjp", "a vjp"),
                                                               ("forward", "forward mode"),
                                                               ("reverse", "reverse mode")) if mode in broken)

    passing = [s for s, o in outcomes.items() if o.verdict == "reproduced" and reads_broken(s)]
    assert passing == [], [(s, outcomes[s].measured) for s in passing]
    assert all(o.verdict == "reproduced" for s, o in outcomes.items() if not reads_broken(s))
    if wrong == "both":
        assert {o.verdict for o in outcomes.values()} <= {"not reproduced", "not measured"}


def test_harness_counts_one_forward_pass_per_input_and_one_of_each_for_reverse():
    rows = S.harness_rows(SHRUNK.harness_inputs, G.JAX_AUTODIFF)
    assert [r["forward passes"] for r in rows] == [2, 5]
    assert all((r["reverse forward passes"], r["reverse backward passes"]) == (1, 1) for r in rows)


def test_each_accumulation_visits_every_edge_once():
    for width, depth in [(2, 3), (4, 2)]:
        weights = G.layered_graph_weights(np.random.default_rng(0), width, depth)
        for mode in (G.forward_accumulation, G.reverse_accumulation):
            assert mode(weights).items_visited == G.edge_count(width, depth)


def test_paths_outgrow_edges():
    """w^k / (2w + (k-1) w^2) grows by more than 2x per layer at w = 4 (tending to w)."""
    ratios = [G.path_count(4, k) / G.edge_count(4, k) for k in range(2, 8)]
    assert all(b > 2 * a for a, b in itertools.pairwise(ratios))


def test_leaving_out_the_largest_path_changes_the_sum_by_that_path():
    weights = G.layered_graph_weights(np.random.default_rng(1), 2, 2)
    products = [weights[0][i, 0] * weights[1][j, i] * weights[2][0, j] for i in (0, 1) for j in (0, 1)]
    largest = max(products, key=abs)
    full, short = G.path_sum(weights), G.path_sum(weights, leave_out_largest=True)
    assert short.items_visited == full.items_visited - 1
    np.testing.assert_allclose(full.derivative - short.derivative, largest, rtol=1e-12)
    assert abs(largest) >= sum(map(abs, products)) / 4  # at least the mean: 1 / paths of the sum of |products|
