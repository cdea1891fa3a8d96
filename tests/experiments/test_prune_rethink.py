"""prune-rethink on a config shrunk below `quick`: table, budgets, tuned grids and claims are sane,
and the equivalence claims' seeds give a method matching itself."""

import dataclasses
import math
import types

import pytest

import experiments.pruning.rethink as exp
from common import stats, tuning
from common.experiment import evaluate, evaluate_claims
from common.runs import Session
from research.pruning import rethink_measures as measures

TABLE = exp.TABLE


@pytest.mark.slow  # a whole experiment: several compiled fits
def test_shrunk_run():
    config = dataclasses.replace(exp.PRESETS["quick"], seeds=2, mlp_widths=(16, 16), steps=100, chunk=50,
                                 structured_ratios=(0.5,), sparsities=(0.5, 0.9), max_widenings=1)
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
    paper = by[("unstructured 50%", exp.PAPER_ROW)]
    assert paper["steps"] == 50 and paper["lr"] == pytest.approx(0.01 * config.learning_rate)
    # Every arm's grid holds its starting values (widened by at most one), one choice marked.
    grid = [r for r in results.tables[exp.GRIDS] if r["arm"] == "mlp unstructured 90% fine-tuned"]
    values = sorted(r["learning_rate"] for r in grid)
    assert 3 <= len(grid) <= 4 and all(v in values for v in values[:3]) and sum(r["chosen"] == "yes" for r in grid) == 1
    assert [pytest.approx(v) for v in (1e-4, 1e-3, 1e-2)] == values[-3:] or values[:3] == pytest.approx(
        [1e-4, 1e-3, 1e-2])
    # A fixed-length arm's grid rows read its runs' last evaluation, the one it was chosen at.
    assert {r["at step"] for r in results.tables[exp.GRIDS] if r["arm"] == "mlp structured 50% scratch-B"} == {200}
    budgets = results.tables[tuning.BUDGET_TABLE]
    assert len(budgets) == 9 and all(len(r["grid"].split(", ")) == 3 + r["widenings"] for r in budgets)
    # Every arm (and the large model) read by the training criterion on a curve evaluated every chunk.
    assert len(results.tables[exp.CRITERION]) == 1 + 9
    assert results.arrays["criterion/high/scratch_b/used"].shape == (1,)
    assert results.scalars["mlp unstructured 90%/scratch_b/budget"] == 200 * (3 + results.scalars[
        "mlp unstructured 90%/scratch_b/widenings"])
    assert by[("unstructured 90%", "fine-tuned (tuned)")]["steps"] in (50, 100)
    assert all(r["test accuracy"] > 0.15 for r in rows if r["variant"].startswith("scratch"))
    outcomes = evaluate_claims(exp.CLAIMS, results)
    # Two seeds are too few for two one-sided tests: those claims say so; the others are measured.
    assert all(o.verdict in ("not run at this preset", "inconclusive") for o in outcomes if "one-sided" in o.statement)
    assert all(o.value is None or math.isfinite(o.value) for o in outcomes)
    assert results.arrays["high/scratch_b"].shape == (1, 2)  # (settings, seeds)
    assert results.arrays["high_rerun/scratch_e"].shape == (1, 2)
    assert results.arrays["finetune/val_curve"].shape == (3, 2, 2)  # (settings, points, seeds)


def test_a_method_matches_itself_at_the_equivalence_presets_seeds():
    seeds = exp.PRESETS["equivalence"].seeds
    assert (stats.seeds_for_equivalence(measures.EQUIVALENCE_SPREAD, measures.MATCH_MARGIN) == seeds
            == measures.EQUIVALENCE_SEEDS == 31)
    matching = [c for c in exp.CLAIMS if "one-sided" in c.statement]
    assert len(matching) == 3
    for claim in matching:  # scratch = fine-tuning in distribution, the quick run's largest per-seed spread
        assert evaluate(claim, exp.synthetic({}, seeds=seeds)).verdict == "reproduced"
        assert evaluate(claim, exp.synthetic({}, seeds=5)).verdict == "not run at this preset"
        assert evaluate(claim, exp.synthetic({}, seeds=seeds, edge="finetuned")).verdict == "inconclusive"


def test_uncapped_scratch_b_in_the_large_presets():
    assert exp.PRESETS["large"].scratch_b_max_factor is None
    assert exp.PRESETS["paper"].scratch_b_max_factor is None
    assert exp.PRESETS["quick"].scratch_b_max_factor == 2.0
    assert exp.PRESETS["quick"].scope == "global-dense-classifier"
    # The full FLOP ratio of 90% unstructured sparsity with a dense classifier (250 of 1056 FLOPs):
    # 3000 x 1056 / 250 steps, rounded to chunks of 250.
    assert exp.scratch_b_steps(exp.PRESETS["large"], types.SimpleNamespace(large_flops=1056, flops=250)) == 12750


@pytest.mark.parametrize("change", [{"finetune_lr_factors": ()}, {"scratch_lr_factors": (-1.0,)},
                                    {"validation_fraction": 1.0}, {"scope": "rows"}, {"max_widenings": -1}])
def test_impossible_grids_are_refused(change):
    with pytest.raises(ValueError):
        dataclasses.replace(exp.PRESETS["quick"], **change)


@pytest.mark.parametrize("arm, claims, reason", [
    ("scratch_e", [1, 2], "scratch-E (structured) (setting 1 of 2): validation accuracy 0.100"),
    ("finetuned", [0, 1, 2, 3], "fine-tuned (structured) (setting 1 of 2): validation accuracy 0.100"),
    ("large", [0, 1, 2, 3], "the large model (model 1 of 2): validation accuracy 0.100")])
def test_an_untrained_arm_makes_the_claims_that_use_it_inconclusive(arm, claims, reason):
    # Every arm trained: the matching claims pass at the equivalence seeds. One arm at chance: each claim
    # that compares it (or, for the large model, every claim) is inconclusive, naming the arm, its value
    # and the criterion; the others keep their verdicts.
    trained = evaluate_claims(exp.CLAIMS, exp.synthetic({}))
    outcomes = evaluate_claims(exp.CLAIMS, exp.synthetic({}, untrained=arm))
    for i, (o, before) in enumerate(zip(outcomes, trained)):
        if i in claims:
            assert o.verdict == "inconclusive" and "undertrained" in o.how and "at least chance 0.1 + 0.1" in o.how
        else:
            assert (o.verdict, o.how) == (before.verdict, before.how)
    assert any(o.how.startswith(reason) for o in outcomes)
