"""ad-cost on a shrunk config (the CNN left out, timing at the given batch, to keep it fast): every claim is decided on exact
quantities (operation and traffic counts, XLA memory), so all must hold; times come in interleaved rounds."""

import dataclasses
import warnings

import numpy as np

from common import bench
from common.experiment import evaluate_claims
from common.runs import Session
from experiments.autodiff import cost as E


def test_ad_cost_shrunk_run(tmp_path, monkeypatch):
    monkeypatch.setattr(E, "MIN_PROGRAM_SECONDS", 0.0)  # time at the given batch: no second compilation
    config = dataclasses.replace(E.PRESETS["quick"], batch=16, mlp_sizes=(16,), cnn_sizes=(), rnn_sizes=(8,),
                                 depths=(4, 9, 16), remat_width=16, remat_batch=16, rounds=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bench.TooSmallToTime)
        results = E.run(config, Session(None))
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert all(o.verdict == "reproduced" for o in outcomes), [(o.statement, o.measured) for o in outcomes]
    rows = next(rows for name, rows in results.tables.items() if name.startswith("Operation counts"))
    assert {r["model"] for r in rows} == {"MLP 16", "RNN 8"}
    for family in ("MLP16", "RNN8"):
        assert 2.0 <= results.scalars[f"{family}/grad/flop_ratio"] <= 4.0
        assert 2.0 <= results.scalars[f"{family}/grad/traffic_ratio"] <= 5.0
    summary = next(rows for name, rows in results.tables.items() if name.startswith("Cheap gradient"))
    assert [r["model"] for r in summary] == ["MLP 16", "RNN 8"] and all(r["time (median)"] > 0 for r in summary)
    # the RNN's loop-aware count is `length` scan steps where XLA counts the body once
    rnn_f = next(r for r in rows if r["model"] == "RNN 8" and r["transform"] == "f")
    assert rnn_f["MFLOP (loops counted)"] > 10 * rnn_f["XLA MFLOP (body once)"]
    # one tanh per unit per step and example, plus the softmax's exp and log: at most 11 per example
    assert 16 * 8 * 40 <= rnn_f["transcendentals (k)"] * 1e3 <= 16 * 8 * 40 + 16 * 11
    # per-layer checkpointing stores less than no remat at every depth
    assert all(results.arrays["remat/per_layer/temp"] < results.arrays["remat/none/temp"])
    rounds = bench.rounds_from_arrays(results.arrays, "time/MLP16", "f")
    assert set(rounds.seconds) == {"f", "jvp", "vjp", "grad", "f~aa"}
    assert all(np.isfinite(v).all() for v in rounds.seconds.values())
    E.figures(results, tmp_path)
    assert (tmp_path / "remat_memory_time.png").exists()
