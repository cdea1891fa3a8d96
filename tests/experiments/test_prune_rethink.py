"""prune-rethink on a config shrunk below `quick`: table, budgets and claims are sane."""

import math

import numpy as np
import pytest

import experiments.prune_rethink as exp
from common.experiment import evaluate_claims
from common.runs import Session


@pytest.mark.slow  # a whole experiment: seven compiled fits
def test_shrunk_run():
    config = exp.Config(seeds=2, models=("mlp",), mlp_widths=(16, 16), steps=100, chunk=50,
                        structured_ratios=(0.5,), sparsities=(0.5, 0.9))
    results = exp.run(config, Session(None))
    rows = results.tables["Test accuracy (mean +- std over seeds)"]
    assert len(rows) == 1 + 4 + 2 * 4  # large; per setting: pruned, fine-tuned, E, B
    by = {(r["pruning"].split(" (")[0], r["variant"]): r for r in rows}
    # FLOPs: 40-16-16-10 -> 40-8-8-10 is (320 + 64 + 80) / (640 + 256 + 160) of the large model
    assert by[("structured 50%", "scratch-B")]["FLOPs % of large"] == round(100 * 464 / 1056, 1)
    assert by[("unstructured 90%", "scratch-E")]["FLOPs % of large"] == 10.0
    # Scratch-B budgets: x FLOPs ratio, capped at 2, rounded to chunks; E = large; FT = 1/4 -> 1 chunk
    assert by[("structured 50%", "scratch-B")]["steps / large"] == 2.0
    assert by[("unstructured 50%", "scratch-B")]["steps / large"] == 2.0
    assert by[("unstructured 50%", "scratch-E")]["steps / large"] == 1.0
    assert by[("unstructured 50%", "fine-tuned")]["steps / large"] == 0.5
    # Everything trained above chance (10 classes) and every claim was measured.
    assert all(r["test accuracy"] > 0.15 for r in rows if r["variant"] in ("scratch-E", "scratch-B"))
    # Unstructured 50% barely changes the trained function; fine-tuning starts from it.
    assert by[("unstructured 50%", "pruned, not retrained")]["test accuracy"] > 0.15
    outcomes = evaluate_claims(exp.CLAIMS, results)
    assert all(o.value is not None and math.isfinite(o.value) for o in outcomes)
    assert np.asarray(results.arrays["mlp/unstructured0.9/scratch-B"]).shape == (2,)
