"""trainer-bench compares like with like (trainer, bare scan and per-step loop end at
the same parameters), times every variant in every round, and its claims read finite
ratios; `run.py bench` is its alias."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common import records
from common.experiment import evaluate_claims
from common.runs import Session
from experiments.foundation import trainer_bench as tb

ROOT = Path(__file__).resolve().parents[2]
TINY = dataclasses.replace(tb.PRESETS["quick"], seed_counts=(1, 2), steps=20, chunk=10, rounds=2,
                           sweep_rates=1, seeds=2, sweep_steps=10, sweep_rounds=2, width=8)


def test_shrunk_quick_preset_measures_every_ratio_on_the_same_work():
    results = tb.run(TINY, Session(None))
    assert results.scalars["max_param_difference"] == 0.0  # same states, same batches, same step
    built = records.get(results, "sweep_rounds", tb.SweepPrograms)  # every timed sweep run builds its programs
    assert built.programs > 0 and 0 <= built.cache_hits <= built.programs and built.seconds > 0
    for name in ("bare_1", "trainer_1", "bare_1~aa", "per_step_1", "bare_2", "trainer_2", "sweep", "sweep~aa",
                 "one_by_one"):
        seconds = results.arrays[f"rounds/{name}"]
        assert seconds.shape == (2,) and np.all(seconds > 0)
    for name in ("trainer_vs_bare/1", "trainer_vs_bare/2", "trainer_vs_per_step/1", "aa/1",
                 "sweep_vs_one_by_one", "aa/sweep"):
        low, mid, high = (results.scalars[f"{name}/{field}"] for field in ("low", "median", "high"))
        assert 0 < low <= mid <= high
    outcomes = {o.statement: o for o in evaluate_claims(tb.CLAIMS, results)}
    # 8 and 64 seeds are not timed here: those claims are not run, and say which preset runs them.
    assert sum(o.value is None for o in outcomes.values()) == 2
    assert all(o.verdict == "not run at this preset" and "needs --preset" in o.how
               for o in outcomes.values() if o.value is None)
    assert all(o.interval is not None for o in outcomes.values() if o.value is not None)


@pytest.mark.parametrize("change, message", [
    ({"steps": 25}, "multiple of chunk"),
    ({"seed_counts": (8, 64)}, "including 1"),
    ({"rounds": 0}, "rounds"),
])
def test_impossible_configs_are_one_line_errors(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TINY, **change)


def test_run_py_bench_is_the_experiment():
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "bench", "--steps", "25", "--chunk", "10"],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "multiple of chunk" in done.stderr and done.stderr.count("\n") == 1
