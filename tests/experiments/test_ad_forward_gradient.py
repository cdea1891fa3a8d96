"""ad-forward-gradient on a shrunk config: the estimator is unbiased, every method trains and is timed."""

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments import ad_forward_gradient as E


def test_ad_forward_gradient_shrunk_run(tmp_path):
    config = E.Config(seeds=1, width=8, tangents=4, steps=100, chunk=50, estimator_samples=2048,
                      cosine_tangents=(1, 16), cosine_draws=256)
    results = E.run(config, Session(None))
    outcomes = {o.statement: o for o in evaluate_claims(E.CLAIMS, results)}
    estimator = [s for s in outcomes if "unbiased" in s or "closed form" in s]
    assert len(estimator) == 2 and all(outcomes[s].reproduced for s in estimator), [
        outcomes[s].measured for s in estimator]
    # more tangents, better aligned with the true gradient
    assert results.arrays["estimator/cosine"][1] > 2 * results.arrays["estimator/cosine"][0]
    for name in ("backprop", "forward k=1", "forward k=4"):
        assert results.arrays[f"{name}/train_loss"].shape == (2, 1)
        assert results.scalars[f"{name}/step_seconds"] > 0
    # backprop lowers the loss in 100 steps
    loss = results.arrays["backprop/train_loss"]
    assert np.nanmean(loss[-1]) < np.nanmean(loss[0])
    E.figures(results, tmp_path)
    assert (tmp_path / "forward_gradient.png").exists()
