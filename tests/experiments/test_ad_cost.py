"""ad-cost on a shrunk config (the CNN left out to keep it fast): FLOP ratios obey the cheap-gradient bound and memory follows the schedules."""

from common.experiment import evaluate_claims
from common.runs import Session
from experiments import ad_cost as E


def test_ad_cost_shrunk_run(tmp_path):
    config = E.Config(batch=16, length=40, mlp_sizes=(16,), cnn_sizes=(), rnn_sizes=(8,), depths=(4, 16),
                      remat_width=16, remat_batch=16, repeats=1)
    results = E.run(config, Session(None))
    outcomes = {o.statement: o for o in evaluate_claims(E.CLAIMS, results)}
    memory_and_flops = [s for s in outcomes if "FLOPs" in s or "memory" in s]
    assert len(memory_and_flops) == 4
    assert all(outcomes[s].reproduced for s in memory_and_flops), [
        (s, outcomes[s].measured) for s in memory_and_flops]
    rows = next(iter(results.tables.values()))
    assert {r["model"] for r in rows} == {"MLP 16", "RNN 8"}
    for family in ("MLP16", "RNN8"):
        assert 2.0 <= results.scalars[f"{family}/grad/flop_ratio"] <= 4.0
    # per-layer checkpointing stores less than no remat at every depth
    assert all(results.arrays["remat/per_layer/temp"] < results.arrays["remat/none/temp"])
    E.figures(results, tmp_path)
    assert (tmp_path / "remat_memory_time.png").exists()
