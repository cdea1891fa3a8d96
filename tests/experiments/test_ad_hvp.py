"""ad-hvp on a shrunk config: the four methods agree in float64 and every method is timed."""

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments import ad_hvp as E


def test_ad_hvp_shrunk_run(tmp_path):
    config = E.Config(seeds=1, cookbook_shape=(6, 5), mlp_width=4, batch=8, max_hessian_dim=500, repeats=2)
    results = E.run(config, Session(None))
    agreement = evaluate_claims(E.CLAIMS, results)[0]
    assert agreement.reproduced and results.scalars["agreement/worst"] < 1e-12
    rows = next(iter(results.tables.values()))
    assert len(rows) == 8  # 2 functions x 4 methods (the MLP has 214 params <= 500)
    assert all(np.isfinite(r["ms"]) and r["ms"] > 0 for r in rows)
    # the full Hessian does far more arithmetic than a single HVP
    mlp = {r["method"]: r["MFLOP"] for r in rows if r["function"].startswith("MLP")}
    assert mlp["full_hessian"] > 10 * mlp["fwd_over_rev"]
    E.figures(results, tmp_path)
    assert (tmp_path / "hvp_times.png").exists()
