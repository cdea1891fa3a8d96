"""ad-jacobian on a shrunk config: FLOP counts follow n and m and decide the FLOP
claims; the two ends are timed in interleaved rounds with an A/A (no assertion on speed)."""

import numpy as np
import pytest

from common import bench
from common.experiment import evaluate_claims
from common.runs import Session
from experiments import ad_jacobian as E


def test_ad_jacobian_shrunk_run(tmp_path):
    config = E.Config(log2_product=7, log2_n_range=(2, 5), fixed_n=8, log2_m_values=(1, 4), hidden=16,
                      time_batch=2, rounds=3)
    results = E.run(config, Session(None))
    outcomes = {o.statement: o for o in evaluate_claims(E.CLAIMS, results)}
    flop_claims = [s for s in outcomes if "FLOP" in s]
    assert len(flop_claims) == 5
    assert all(outcomes[s].verdict == "reproduced" and outcomes[s].control.verdict != "reproduced"
               for s in flop_claims)
    a = results.arrays
    np.testing.assert_array_equal(a["product/n"] * a["product/m"], 2**7)
    # jacfwd does n passes, jacrev m: FLOPs per f track n and m (plus the primal pass)
    ratio = a["product/jacfwd/flops"] / a["product/jacrev/flops"]
    assert ratio[0] < 0.2 and ratio[-1] > 5
    for label in ("smallest_n", "largest_n"):
        rounds = bench.rounds_from_arrays(a, f"time/{label}", "jacfwd")
        assert rounds.seconds["jacrev"].shape == (3,) and np.all(rounds.seconds["jacrev"] > 0)
    E.figures(results, tmp_path)
    assert (tmp_path / "jacobian_crossover.png").exists()


def test_crossover_of_an_exact_power_law():
    n_over_m = 2.0 ** np.arange(-6, 7)
    assert E.crossover_ratio(n_over_m, n_over_m / 4) == pytest.approx(4.0, rel=1e-9)
