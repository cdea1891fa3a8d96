"""ad-jacobian on a shrunk config: FLOP counts follow n and m and decide the FLOP
claims; the two ends are timed in interleaved rounds with an A/A (no assertion on speed)."""

import dataclasses

import numpy as np
import pytest

from common import bench
from common.experiment import evaluate_claims
from common.runs import Session
from experiments.autodiff import jacobian as E
from research.autodiff import fits

SHRUNK = dataclasses.replace(E.PRESETS["quick"], log2_product=7, log2_n_range=(2, 5), fixed_n=8, log2_m_values=(1, 4),
                             hidden=16, time_batch=2, rounds=3)


def test_ad_jacobian_shrunk_run(tmp_path):
    results = E.run(SHRUNK, Session(None))
    outcomes = {o.statement: o for o in evaluate_claims(E.CLAIMS, results)}
    flop_claims = [s for s in outcomes if "FLOP" in s]
    assert len(flop_claims) == 5
    assert all(outcomes[s].verdict == "reproduced" and outcomes[s].control.verdict != "reproduced"
               for s in flop_claims)
    a = results.arrays
    np.testing.assert_array_equal(a["product/n"] * a["product/m"], 2**7)
    # jacfwd does n passes, jacrev m: FLOPs per f track n and m (plus the primal pass)
    ratio = a["product/jacfwd_flops"] / a["product/jacrev_flops"]
    assert ratio[0] < 0.2 and ratio[-1] > 5
    for label in ("smallest_n", "largest_n"):
        rounds = bench.rounds_from_arrays(a, f"time/{label}", "jacfwd")
        assert rounds.seconds["jacrev"].shape == (3,) and np.all(rounds.seconds["jacrev"] > 0)
    E.figures(results, tmp_path)
    assert (tmp_path / "jacobian_crossover.png").exists()


def test_crossover_of_an_exact_power_law():
    n_over_m = 2.0 ** np.arange(-6, 7)
    assert fits.crossover_ratio(n_over_m, n_over_m / 4) == pytest.approx(4.0, rel=1e-9)


def test_jacfwd_and_jacrev_swapped_in_the_sweep_fail_every_flop_claim(monkeypatch):
    """The measured sweep with the two transforms exchanged: the crossover claim says "not reproduced"
    (the fitted line falls: no crossover), as do the two end-ratio claims and both slopes."""
    import jax

    from common.experiment import Results, evaluate

    monkeypatch.setattr(E, "STRATEGIES", {"jacfwd": jax.jacrev, "jacrev": jax.jacfwd})
    results = Results()
    E.flop_sweeps(SHRUNK, results)
    assert results.scalars["crossover_n_over_m"] == np.inf
    verdicts = {c.statement: evaluate(c, results).verdict for c in E.CLAIMS if "FLOP" in c.statement}
    assert set(verdicts.values()) == {"not reproduced"}, verdicts


def test_jacfwd_and_jacrev_swapped_is_not_reproduced_on_the_crossover():
    """The law reversed (jacfwd/jacrev falling as n/m grows: the two swapped) has no crossover:
    infinitely far from n = m, so the claim says "not reproduced", not "not measured"."""
    from common.experiment import Results, evaluate

    n_over_m = np.array([1 / 16, 1 / 4, 1.0, 4.0, 16.0])
    swapped = fits.crossover_ratio(n_over_m, 1 / n_over_m)  # jacrev/jacfwd of the true law
    assert swapped == np.inf and fits.crossover_ratio(n_over_m, n_over_m) == pytest.approx(1.0)
    claim = next(c for c in E.CLAIMS if "crossover" in c.statement)
    outcome = evaluate(claim, Results(scalars={"crossover_log2_distance": abs(np.log2(swapped))}))
    assert outcome.verdict == "not reproduced"
