"""Sharded training equals one-device training: the seed axis or the batch
axis over 8 simulated CPU devices, and two processes of two devices each
(`jax.distributed` on localhost), against one device.

Each layout runs `tests/common/parallel_worker.py` in its own process (the
device count is fixed when JAX starts), all launched at once and killed
together if any is still running after TIMEOUT seconds. Every process uses
LLVM optimization level 0 (`--xla_backend_optimization_level=0`): it cuts the
compile time, which dominates these runs, about threefold, and the SPMD
partitioning under test is an HLO pass that the flag does not touch.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 360  # seconds for all runs together; a hang fails the tests instead of stalling the suite
FAST_COMPILE = "--xla_backend_optimization_level=0"
# Measured: parameters differ by at most 1.2e-7 (absolute; 8e-6 relative for
# the smallest, near 1e-3), metrics by at most 2e-7 (relative): the batch
# reductions are summed in a different order.
RTOL, ATOL = 1e-5, 1e-6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(folder: Path, name: str, devices: int, args: list[str], distributed=None):
    """Start one worker process, its stdout and stderr going to files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THEORY_LAB_")}
    flags = f"--xla_force_host_platform_device_count={devices} {FAST_COMPILE}"
    env |= {"JAX_PLATFORMS": "cpu", "XLA_FLAGS": flags, **(distributed or {})}
    out, err = folder / f"{name}.out", folder / f"{name}.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.common.parallel_worker", *args],
            cwd=ROOT, env=env, stdout=stdout, stderr=stderr,
        )
    return name, process, out, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{name: (return codes, JSON of process 0 or None, stderr tail)} of every layout."""
    folder = tmp_path_factory.mktemp("parallel")
    port = _free_port()
    launched = [
        _launch(folder, "one_device", 1, ["seeds", "padded"]),
        _launch(folder, "eight_devices", 8, ["seeds", "batch", "padded", "--collectives"]),
        *(
            _launch(folder, f"two_processes_{i}", 2, ["seeds", "batch"], {
                "THEORY_LAB_COORDINATOR": f"127.0.0.1:{port}",
                "THEORY_LAB_NUM_PROCESSES": "2",
                "THEORY_LAB_PROCESS_ID": str(i),
            })
            for i in range(2)
        ),
    ]
    deadline = time.monotonic() + TIMEOUT
    while any(p.poll() is None for _, p, _, _ in launched) and time.monotonic() < deadline:
        time.sleep(0.2)
    for _, process, _, _ in launched:
        if process.poll() is None:
            process.kill()
            process.wait()
    outcomes = {}
    for name, process, out, err in launched:
        lines = out.read_text().splitlines()  # gloo logs to stdout too; the JSON is the last line
        payload = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
        outcomes[name] = (process.returncode, payload, err.read_text()[-3000:])
    return outcomes


def _result(runs, *names) -> dict:
    """Process 0's JSON; fails with the stderr of any process that did not finish well."""
    for name in names:
        code, _, err = runs[name]
        assert code == 0, f"{name} exited with {code} (-9: killed after {TIMEOUT} s)\n{err}"
    payload = runs[names[0]][1]
    assert payload is not None, f"{names[0]} printed no JSON\n{runs[names[0]][2]}"
    return payload


def _assert_same_run(got: dict, want: dict) -> None:
    assert got["step"] == want["step"]
    close = dict(rtol=RTOL, atol=ATOL)
    for mine, theirs in zip(got["params"]["layers"], want["params"]["layers"], strict=True):
        for key in ("w", "b"):
            np.testing.assert_allclose(mine[key], theirs[key], **close, err_msg=key)
    assert got["history"].keys() == want["history"].keys()
    for key, values in want["history"].items():
        if key == "members":  # labels, compared as they are
            assert got["history"][key] == values
            continue
        mine = np.array(got["history"][key], float)
        np.testing.assert_allclose(mine, np.array(values, float), **close, err_msg=key)


def test_reference_run_trains(runs):
    """The one-device run learns, so agreeing with it is not agreeing on noise."""
    reference = _result(runs, "one_device")
    assert reference["devices"] == 1
    loss = np.array(reference["seeds"]["history"]["train/loss"])
    assert loss.shape == (3, 8)
    assert np.all(loss[-1] < 0.7 * loss[0])
    assert np.all(np.array(reference["seeds"]["history"]["eval/accuracy"][-1]) > 0.5)  # chance: 1/3


def test_seed_axis_over_8_devices_equals_one_device(runs):
    reference, sharded = _result(runs, "one_device"), _result(runs, "eight_devices")
    assert sharded["devices"] == 8
    run = sharded["seeds"]
    assert run["params_devices"] == 8 and not run["params_replicated"]  # one seed per device
    assert run["all_reduces"] == 0  # seeds are independent: no communication in a chunk
    _assert_same_run(run, reference["seeds"])


def test_batch_axis_over_8_devices_equals_one_device(runs):
    reference, sharded = _result(runs, "one_device"), _result(runs, "eight_devices")
    run = sharded["batch"]
    assert run["params_devices"] == 8 and run["params_replicated"]
    assert run["all_reduces"] >= 1  # the batch really is split: gradients are summed across devices
    _assert_same_run(run, reference["seeds"])


def test_runs_that_do_not_divide_the_devices_are_padded_and_the_padding_dropped(runs):
    """2 lrs x 3 seeds = 6 runs over 8 devices: padded to 8 and sharded, never replicated;
    the results have 6 runs and equal one device's."""
    reference, sharded = _result(runs, "one_device"), _result(runs, "eight_devices")
    run = sharded["padded"]
    assert run["padded_runs"] == 8 and run["params_devices"] == 8 and not run["params_replicated"]
    assert np.array(run["history"]["train/loss"]).shape == (3, 6) and len(run["step"]) == 6
    assert run["history"]["members"] == reference["padded"]["history"]["members"]
    _assert_same_run(run, reference["padded"])


def test_two_processes_equal_one_process(runs):
    reference = _result(runs, "one_device")
    distributed = _result(runs, "two_processes_0", "two_processes_1")
    assert (distributed["processes"], distributed["devices"]) == (2, 4)
    seeds = distributed["seeds"]
    assert seeds["params_devices"] == 4 and not seeds["params_replicated"]
    assert distributed["batch"]["params_replicated"]
    _assert_same_run(distributed["seeds"], reference["seeds"])
    _assert_same_run(distributed["batch"], reference["seeds"])


def test_map_independent_keeps_order_and_numbers():
    """Threads finish out of order; results come back in item order, equal to the loop's."""
    import jax
    import jax.numpy as jnp

    from common.parallel import map_independent

    def train(seconds):
        time.sleep(seconds)  # the first item finishes last
        key = jax.random.key(int(seconds * 100))
        return seconds, jax.jit(lambda k: jnp.sum(jax.random.normal(k, (64, 64)) ** 2))(key)

    items = [0.3, 0.0, 0.1]
    threaded = map_independent(train, items, max_workers=3)
    looped = [train(s) for s in items]
    assert [s for s, _ in threaded] == items
    for (_, a), (_, b) in zip(threaded, looped):
        assert float(a) == float(b)
