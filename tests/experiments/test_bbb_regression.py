"""bbb-regression on a shrunk network: the spread already widens off the data,
beyond the untrained posterior's; the plain network is deterministic."""

import dataclasses

import jax
import numpy as np

from common import records
from common.experiment import evaluate_claims
from common.models import MLP
from common.runs import Session
from experiments.bayes import regression as E
from research.bayes import predictive


def test_bbb_regression_shrunk_run(tmp_path):
    config = dataclasses.replace(E.PRESETS["quick"], seeds=2, num_train=100, width=32, steps=600, chunk=300,
                                 num_samples=100, grid_points=57, num_heldout=50,
                                 observation_noise="none")  # the ratio of weight uncertainty alone
    results = E.run(config, Session(None))
    assert results.arrays["bayes/std"].shape == (2, 57)
    assert results.arrays["plain/prediction"].shape == (2, 57)
    # Quartiles bracket the median; the Bayesian spread is wider outside [0, 0.5].
    assert np.all(results.arrays["bayes/q25"] <= results.arrays["bayes/median"])
    assert np.all(results.arrays["bayes/median"] <= results.arrays["bayes/q75"])
    assert results.scalars["bayes/std_ratio_outside_inside"] > 1.2
    spread = records.get(results, "bayes", predictive.Spread)
    assert spread.std_ratio_left_per_seed.shape == spread.std_ratio_right_per_seed.shape == (2,)
    # Both networks fit the training interval far better than a constant would (std of the curve ~0.2),
    # the untrained posterior does not.
    assert results.scalars["bayes/rmse_inside"] < 0.1 and results.scalars["plain/rmse_inside"] < 0.1
    assert np.all(results.arrays["init/rmse_inside_per_seed"] > 0.1)
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert all(o.value is not None and np.isfinite(o.value) for o in outcomes)
    assert all(o.control.value is not None and o.control.verdict != "reproduced" for o in outcomes), outcomes
    coverage = results.tables["Coverage of held-out points by the predictive bands (mean over seeds)"]
    assert all(0 <= row["50% band covers"] <= row["95% band covers"] <= 1 for row in coverage)
    assert {row["noise model"] for row in coverage} == {"fitted", "likelihood", "none"}
    # The data's noise in y exceeds the likelihood's 0.02 (eps also enters the sines); the fitted noise sees it.
    assert results.scalars["fitted_noise_std"] > config.noise_std
    E.figures(results, tmp_path)
    assert (tmp_path / "regression.png").exists()


def test_the_plain_network_has_no_predictive_spread():
    """What the old claim "the plain network has no spread" checked holds by construction: forward
    passes of a network without dropout agree exactly whatever the key."""
    model = MLP((16, 16), 1, activation="relu", init="he")
    x = np.linspace(-0.2, 1.2, 9, dtype=np.float32)[:, None]
    params, state = model.init_variables(jax.random.key(0), x)
    a = model.apply(params, state, x, key=jax.random.key(1))[0]
    b = model.apply(params, state, x, key=jax.random.key(2))[0]
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_data_noise_std_matches_the_delta_method():
    """std(y | x) of y = f(x + eps) is |f'(x)| noise_std to first order, f'(x) = 1 + 0.6 pi cos(2 pi x)
    + 1.2 pi cos(4 pi x); its RMS over [0, 0.5] against the Monte Carlo estimate."""
    config = E.PRESETS["quick"]
    x = np.linspace(0.0, 0.5, 101)
    slope = 1 + 0.6 * np.pi * np.cos(2 * np.pi * x) + 1.2 * np.pi * np.cos(4 * np.pi * x)
    delta = config.noise_std * np.sqrt(np.mean(slope**2))
    assert abs(predictive.data_noise_std(config.noise_std, config.seed + 4, 0.0, 0.5) - delta) < 0.03 * delta
