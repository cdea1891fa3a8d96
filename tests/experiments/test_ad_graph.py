"""ad-graph on a shrunk config: every claim holds, and the properties that hold
by construction (the harness's pass counts, edges visited, paths outgrowing
edges) are checked here as properties of the code, not claimed."""

import jax
import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments import ad_graph as E
from research import autodiff_graph as G

SHRUNK = E.Config(seeds=1, harness_inputs=(2, 5), input_counts=(8, 64), widths=(2, 3), max_depth=4,
                  max_enumerated_paths=100)


def test_ad_graph_shrunk_run_reproduces_every_claim(tmp_path):
    results = E.run(SHRUNK, Session(None))
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert [o.statement for o in outcomes if o.verdict != "reproduced"] == []
    assert all(o.control.verdict == "not reproduced" for o in outcomes)
    np.testing.assert_array_equal(results.arrays["layered/w3/paths"], [3, 9, 27, 81])
    assert 3.5 < results.scalars["layered/jvp_per_edge"] < 4.5
    E.figures(results, tmp_path)
    assert (tmp_path / "paths_and_passes.png").exists()


def test_harness_counts_one_forward_pass_per_input_and_one_of_each_for_reverse():
    results = E.Results()
    E.many_inputs(SHRUNK, results)
    rows = next(iter(results.tables.values()))
    assert [r["forward passes"] for r in rows] == [2, 5]
    assert all((r["reverse forward passes"], r["reverse backward passes"]) == (1, 1) for r in rows)


def test_each_accumulation_visits_every_edge_once():
    for width, depth in [(2, 3), (4, 2)]:
        weights = G.layered_graph_weights(jax.random.key(0), width, depth)
        for mode in (G.forward_accumulation, G.reverse_accumulation):
            assert mode(weights).items_visited == G.edge_count(width, depth)


def test_paths_outgrow_edges():
    """w^k / (2w + (k-1) w^2) grows by more than 2x per layer at w = 4 (tending to w)."""
    ratios = [G.path_count(4, k) / G.edge_count(4, k) for k in range(2, 8)]
    assert all(b > 2 * a for a, b in zip(ratios, ratios[1:]))


def test_leaving_out_one_path_changes_the_sum_by_that_path():
    weights = [np.asarray(w, np.float64) for w in G.layered_graph_weights(jax.random.key(1), 2, 2)]
    last = weights[0][1, 0] * weights[1][1, 1] * weights[2][0, 1]  # route 0 -> 1 -> 1 -> 0
    full, short = G.path_sum(weights), G.path_sum(weights, leave_out_last=True)
    assert short.items_visited == full.items_visited - 1
    np.testing.assert_allclose(full.derivative - short.derivative, last, rtol=1e-12)
