"""ad-jacobian on a shrunk config: FLOP counts follow n and m, every strategy is timed where it runs."""

import numpy as np
import pytest

from common.experiment import evaluate_claims
from common.runs import Session
from experiments import ad_jacobian as E


def test_ad_jacobian_shrunk_run(tmp_path):
    config = E.Config(log2_product=7, log2_n_range=(2, 5), fixed_n=8, log2_m_values=(1, 4), hidden=16,
                      max_loop_passes=4, repeats=2)
    results = E.run(config, Session(None))
    outcomes = {o.statement: o for o in evaluate_claims(E.CLAIMS, results)}
    flop_claims = [s for s in outcomes if "FLOPs" in s]
    assert len(flop_claims) == 2 and all(outcomes[s].reproduced for s in flop_claims)
    a = results.arrays
    np.testing.assert_array_equal(a["product/n"] * a["product/m"], 2**7)
    # jacfwd does n passes, jacrev m: FLOPs per f track n and m (plus the primal pass)
    ratio = a["product/jacfwd/flops"] / a["product/jacrev/flops"]
    assert ratio[0] < 0.2 and ratio[-1] > 5
    # loops run only where they need at most max_loop_passes passes
    assert np.isfinite(a["product/jvp_loop/seconds"][0]) and np.isnan(a["product/jvp_loop/seconds"][-1])
    assert np.all(np.isfinite(a["product/jacfwd/seconds"])) and np.all(a["product/jacrev/seconds"] > 0)
    # (no assertion on the crossover: at these sizes the times are dispatch noise)
    E.figures(results, tmp_path)
    assert (tmp_path / "jacobian_crossover.png").exists()


def test_crossover_of_an_exact_power_law():
    n_over_m = 2.0 ** np.arange(-6, 7)
    assert E.crossover_ratio(n_over_m, n_over_m / 4) == pytest.approx(4.0, rel=1e-9)
