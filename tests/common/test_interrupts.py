"""Interrupts: SIGTERM/SIGINT in `fit` checkpoint at the next chunk boundary and stop with
`Interrupted`; run.py says how to resume in one line and exits 130; the resume ends
where an uninterrupted run ends."""

import os
import re
import signal
import time

import jax
import numpy as np
import optax
import pytest

from common.interrupts import Interrupted
from common.models import MLP
from common.runs import Session
from common.train import EpochBatches, Loop, fit, new_state, seed_keys, supervised_step
from tests.common.test_checkpoint import comparable, run_py
from tests.common.test_train import blobs

MODEL, OPTIMIZER = MLP((8,), 3), optax.sgd(0.05)
X, Y = blobs()


def init(key):
    params, model_state = MODEL.init_variables(key, X[:1])
    return new_state(params, OPTIMIZER.init(params), key, model_state)


STEP = supervised_step(MODEL, OPTIMIZER)


def train(session, steps=400):
    return fit("t", init=init, step=STEP, sample_batch=EpochBatches(32), data=(X, Y),
               loop=Loop(steps=steps, chunk=1, checkpoint_seconds=None), keys=seed_keys(0, 2),
               session=session)


def test_sigterm_checkpoints_at_the_next_chunk_and_the_resume_ends_identical(tmp_path):
    plain = train(Session(tmp_path / "plain"))
    cut = Session(tmp_path / "cut")
    write = cut.metrics.write

    def write_then_signal(record):  # SIGTERM arrives mid-fit, after step 5's chunk, however fast the run is
        write(record)
        if record["step"] == 5:
            os.kill(os.getpid(), signal.SIGTERM)

    cut.metrics.write = write_then_signal
    with pytest.raises(Interrupted) as caught:
        train(cut)
    assert caught.value.exit_code == 143 and "--resume --out" in str(caught.value)
    saved = [int(p.name) for p in (tmp_path / "cut" / "checkpoints" / "t").iterdir() if p.name.isdigit()]
    assert saved and max(saved) < 400  # stopped mid-way, with a checkpoint where it stopped
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is gone
    resumed = train(Session(tmp_path / "cut", resume=True))
    for a, b in zip(jax.tree.leaves(plain.state.params), jax.tree.leaves(resumed.state.params)):
        np.testing.assert_array_equal(a, b)
    assert (tmp_path / "plain" / "metrics.jsonl").read_text() == (tmp_path / "cut" / "metrics.jsonl").read_text()


# Long enough that the three fits, which run side by side, are still running well after the first
# checkpoint: the interrupt lands mid-fit however fast the machine is.
ARGS = ["mnist1d-baselines", "--seeds", "2", "--steps", "1000", "--chunk", "50", "--eval-every", "100",
        "--checkpoint-every", "100"]


def test_ctrl_c_in_run_py_is_one_line_exit_130_and_resume_ends_identical(tmp_path):
    plain = run_py([*ARGS, "--out", "plain"], tmp_path)
    cut = run_py([*ARGS, "--out", "cut"], tmp_path)
    marker = tmp_path / "cut" / "checkpoints" / "logistic" / "100"  # the fastest fit's first checkpoint
    deadline = time.time() + 240
    while not marker.exists() and cut.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert cut.poll() is None, "the run ended before it could be interrupted"
    cut.send_signal(signal.SIGINT)
    _, stderr = cut.communicate(timeout=240)
    assert cut.returncode == 130, stderr
    # Off a terminal the progress goes out as plain "fit: step k/N ..." lines; beside them, one line.
    lines = [line for line in stderr.splitlines() if line.strip() and not re.match(r"^\S+: step \d+/\d+", line)]
    assert len(lines) == 1 and "--resume --out cut" in lines[0] and "Traceback" not in stderr, stderr
    assert not (tmp_path / "cut" / "results.json").exists()
    resumed = run_py([*ARGS, "--out", "cut", "--resume"], tmp_path)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    assert plain.wait(timeout=300) == 0, plain.stderr.read()
    assert comparable(tmp_path / "plain") == comparable(tmp_path / "cut")
