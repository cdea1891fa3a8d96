"""ad-graph on a shrunk config: the notes' values, pass counts and path counts come out right."""

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments import ad_graph as E


def test_ad_graph_shrunk_run_reproduces_every_claim(tmp_path):
    config = E.Config(seeds=1, input_counts=(2, 5), widths=(2, 3), max_depth=4, max_enumerated_paths=100)
    results = E.run(config, Session(None))
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert [o.statement for o in outcomes if not o.reproduced] == []
    np.testing.assert_array_equal(results.arrays["passes/forward"], [2, 5])
    np.testing.assert_array_equal(results.arrays["layered/w3/paths"], [3, 9, 27, 81])
    assert 3.5 < results.scalars["layered/jvp_flops_per_edge"] < 4.5
    E.figures(results, tmp_path)
    assert (tmp_path / "paths_and_passes.png").exists()
