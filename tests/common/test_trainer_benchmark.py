"""The trainer benchmark compares like with like: its three variants end at
the same parameters; its command line fails in one line with exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from common import trainer_benchmark as tb
from common.config import UsageError

ROOT = Path(__file__).resolve().parents[2]
TINY = tb.PRESETS["tiny"]  # 40 steps in two trainer chunks, 2 seeds, 1 repeat


def test_variants_reach_the_same_parameters():
    # Same initial states, same batches, same step: fit itself, the bare scan
    # and the per-step loop must agree, or the timings compare different work.
    prob = tb.problem(TINY)
    measured = tb.measure(prob, TINY, seeds=2)
    reference = jax.tree.leaves(measured.params["bare scan"])
    initial = jax.tree.leaves(measured.params["initial"])
    moved = max(np.max(np.abs(a - b)) for a, b in zip(reference, initial))
    assert moved > 1e-3  # the runs trained, so agreement is not trivial
    for name in ("trainer", "per-step loop"):
        for got, want in zip(jax.tree.leaves(measured.params[name]), reference):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=name)
    assert [row["variant"] for row in measured.rows][:3] == [
        "bare jit(lax.scan)", "trainer (chunk + host loop)", "per-step jitted loop"]
    assert all(row["steps_per_s"] > 0 and row["seeds"] == 2 for row in measured.rows)


def test_main_saves_json_and_table(tmp_path, monkeypatch, capsys):
    # The measurement itself is tested above; here a stand-in keeps this fast.
    def fake_measure(prob, config, seeds):
        row = {"seeds": seeds, "variant": "bare jit(lax.scan)", "steps_per_s": 100.0,
               "seed_steps_per_s": 100.0 * seeds, "vs_bare_scan": 1.0, "compile_s": float("nan")}
        names = ("trainer", "bare scan", "per-step loop")
        params = {name: {"w": np.full(3, seeds, np.float32)} for name in names}
        params["per-step loop"]["w"][0] += 0.5
        return tb.Measured([row], 2e6, params)

    monkeypatch.setattr(tb, "measure", fake_measure)
    monkeypatch.setattr(tb, "problem", lambda config: None)
    out = tmp_path / "bench"
    assert tb.main(["--seeds", "1", "8", "--out", str(out)]) == 0
    payload = json.loads((out / "bench.json").read_text())
    assert payload["max_param_difference"] == {"1": {"trainer": 0.0, "per-step loop": 0.5},
                                               "8": {"trainer": 0.0, "per-step loop": 0.5}}
    assert payload["rows"][0]["compile_s"] is None  # NaN saved as null: valid JSON
    table = (out / "bench.md").read_text()
    assert "| 8 | bare jit(lax.scan) | 100 | 800 | 1.00 | nan |" in table
    assert table.split("\n\n", 1)[1] in capsys.readouterr().out
    assert not list(out.glob("*.tmp"))


@pytest.mark.parametrize("argv, words", [
    (["--steps", "30", "--chunk", "20"], "multiple of chunk"),
    (["--seeds", "0"], "seeds"),
    (["--repeats", "many"], "repeats"),
    (["--resume"], "resume"),
])
def test_bad_options_raise_one_line(argv, words):
    with pytest.raises(UsageError) as error:
        tb.main(argv)
    assert words in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow
def test_run_py_bench_bad_option_exits_2():
    done = subprocess.run([sys.executable, "run.py", "bench", "--stepz", "3"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error:") and done.stderr.strip().count("\n") == 0
