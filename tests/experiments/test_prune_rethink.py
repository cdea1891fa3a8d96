"""prune-rethink on a config shrunk below `quick`: table, budgets, grids and claims are sane."""

import dataclasses
import math

import pytest

import experiments.pruning.rethink as exp
from common.experiment import evaluate_claims
from common.runs import Session

TABLE = exp.TABLE


@pytest.mark.slow  # a whole experiment: seven compiled fits
def test_shrunk_run():
    config = dataclasses.replace(exp.PRESETS["quick"], seeds=2, mlp_widths=(16, 16), steps=100, chunk=50,
                                 structured_ratios=(0.5,), sparsities=(0.5, 0.9), scratch_lr_factors=(1.0,))
    results = exp.run(config, Session(None))
    rows = results.tables[TABLE]
    assert len(rows) == 1 + 5 + 2 * 5  # large; per setting: not retrained, paper FT, tuned FT, E, B
    by = {(r["pruning"], r["variant"]): r for r in rows}
    # FLOPs: 40-16-16-10 -> 40-8-8-10 is (320 + 64 + 80) / (640 + 256 + 160) of the large model
    assert by[("structured 50%", "scratch-B (tuned)")]["FLOPs % of large"] == round(100 * 464 / 1056, 1)
    # Global magnitude pruning with the classifier dense: 90% of the 896 hidden weights pruned,
    # the 160 classifier weights kept: (90 + 160) / 1056 of the FLOPs.
    assert by[("unstructured 90%", "scratch-E (tuned)")]["FLOPs % of large"] == round(100 * 250 / 1056, 1)
    # Scratch-B budgets: x FLOPs ratio, capped at 2, rounded to chunks; E = large; paper FT = 1/4 -> 1 chunk
    assert by[("structured 50%", "scratch-B (tuned)")]["steps"] == 200
    assert by[("unstructured 50%", "scratch-E (tuned)")]["steps"] == 100
    paper = by[("unstructured 50%", "fine-tuned (paper: final lr, 1/4 length)")]
    assert paper["steps"] == 50 and paper["lr"] == pytest.approx(0.01 * config.learning_rate)
    # The fine-tuning grid holds the paper's lr once and the peak; its length is a multiple of chunk.
    grid = [r for r in results.tables[exp.GRIDS] if r["arm"] == "mlp unstructured 90% fine-tuned"]
    assert sorted(r["learning_rate"] for r in grid) == pytest.approx([1e-4, 1e-3, 1e-2])
    assert sum(r["chosen"] == "yes" for r in grid) == 1
    assert by[("unstructured 90%", "fine-tuned (tuned)")]["steps"] in (50, 100)
    assert all(r["test accuracy"] > 0.15 for r in rows if r["variant"].startswith("scratch"))
    outcomes = evaluate_claims(exp.CLAIMS, results)
    assert all(o.value is not None and math.isfinite(o.value) for o in outcomes)
    assert results.arrays["high/scratch_b"].shape == (1, 2)  # (models, seeds)
    assert results.arrays["finetune/val_curve"].shape == (3, 2, 2)  # (settings, points, seeds)


def test_uncapped_scratch_b_in_the_large_presets():
    assert exp.PRESETS["large"].scratch_b_max_factor is None
    assert exp.PRESETS["paper"].scratch_b_max_factor is None
    assert exp.PRESETS["quick"].scratch_b_max_factor == 2.0
    assert exp.PRESETS["quick"].scope == "global-dense-classifier"
    # The full FLOP ratio of 90% unstructured sparsity with a dense classifier (250 of 1056 FLOPs).
    assert exp.scratch_b_factor(exp.PRESETS["large"], 1056, 250) == pytest.approx(1056 / 250)


@pytest.mark.parametrize("change", [{"finetune_lr_factors": ()}, {"scratch_lr_factors": (-1.0,)},
                                    {"validation_fraction": 1.0}, {"scope": "rows"}])
def test_impossible_grids_are_refused(change):
    with pytest.raises(ValueError):
        dataclasses.replace(exp.PRESETS["quick"], **change)
