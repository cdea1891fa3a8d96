"""Checkpoints: restore, a damaged newest step skipped, and SIGKILL + --resume
ending exactly where an uninterrupted run ends."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common.checkpoint import Checkpoints
from common.train import new_state

ROOT = Path(__file__).resolve().parents[2]


def small_state(value):
    params = {"w": jnp.full((3, 2), value), "b": jnp.arange(2.0)}
    return new_state(params, {"m": jnp.zeros(2)}, jax.random.key(5))


def test_restore_returns_the_newest_state_and_history(tmp_path):
    checkpoints = Checkpoints(tmp_path / "c")
    checkpoints.save(10, small_state(1.0), {"step": [10]})
    checkpoints.save(20, small_state(2.0), {"step": [10, 20]})
    step, state, history = checkpoints.restore_latest(small_state(0.0))
    assert step == 20 and history == {"step": [10, 20]}
    np.testing.assert_array_equal(state.params["w"], 2.0)
    np.testing.assert_array_equal(jax.random.key_data(state.key), jax.random.key_data(jax.random.key(5)))


def test_saves_from_four_threads_take_turns_and_all_restore(tmp_path):
    """Trainings in threads (parallel.map_independent) checkpoint at once; unguarded,
    orbax's process-wide save signals time out on each other."""
    from common.parallel import map_independent

    def train(value):
        checkpoints = Checkpoints(tmp_path / f"run{value}")
        for step in range(1, 6):
            checkpoints.save(step, small_state(value * step), {"step": step})
        checkpoints.close()
        return Checkpoints(tmp_path / f"run{value}").restore_latest(small_state(0.0))

    values = [1.0, 2.0, 3.0, 4.0]
    for value, (step, state, history) in zip(values, map_independent(train, values, max_workers=4)):
        assert step == 5 and history == {"step": 5}
        np.testing.assert_array_equal(state.params["w"], 5 * value)


def test_a_truncated_newest_checkpoint_is_skipped_with_a_warning(tmp_path):
    checkpoints = Checkpoints(tmp_path / "c", max_to_keep=3)
    checkpoints.save(1, small_state(1.0), {"n": 1})
    checkpoints.save(2, small_state(2.0), {"n": 2})
    newest = tmp_path / "c" / "2"
    files = [f for f in newest.rglob("*") if f.is_file() and f.stat().st_size > 0]
    for f in files:  # truncate every data file of the newest step
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 3])
    with pytest.warns(UserWarning, match="unreadable"):
        step, state, history = Checkpoints(tmp_path / "c").restore_latest(small_state(0.0))
    assert step == 1 and history == {"n": 1}
    np.testing.assert_array_equal(state.params["w"], 1.0)


ARGS = ["mnist1d-baselines", "--seeds", "2", "--steps", "300", "--chunk", "50", "--eval-every", "100",
        "--checkpoint-every", "50"]


def run_py(args, cwd, **kwargs):
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def comparable(folder: Path):
    """metrics.jsonl's lines by fit and step (fits run side by side: their lines interleave in any
    order), the scalars, and the tables without their speeds."""
    lines = sorted((json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()),
                   key=lambda line: (line["run"], line["step"]))
    results = json.loads((folder / "results.json").read_text())
    tables = [{k: v for k, v in row.items() if not k.startswith("steps/s")}
              for rows in results["tables"].values() for row in rows]
    return lines, results["scalars"], tables


def test_sigkill_then_resume_ends_where_an_uninterrupted_run_ends(tmp_path):
    plain = run_py([*ARGS, "--out", "plain"], tmp_path)
    killed = run_py([*ARGS, "--out", "killed"], tmp_path)
    # Kill once the second model (mlp) has checkpointed mid-way.
    marker = tmp_path / "killed" / "checkpoints" / "mlp" / "100"
    deadline = time.time() + 240
    while not marker.exists() and killed.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert killed.poll() is None, "the run ended before it could be killed"
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "killed" / "results.json").exists()
    resumed = run_py([*ARGS, "--out", "killed", "--resume"], tmp_path)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    assert plain.wait(timeout=300) == 0, plain.stderr.read()
    a_lines, a_scalars, a_tables = comparable(tmp_path / "plain")
    b_lines, b_scalars, b_tables = comparable(tmp_path / "killed")
    assert a_lines == b_lines  # every logged metric, bit for bit (JSON floats)
    assert a_scalars == b_scalars and a_tables == b_tables
    assert len(a_lines) == 3 * 6
