"""Logs: plain progress lines when stderr is not a terminal (a batch job is
not silent), and TensorBoard event files of the metrics, read back here."""

import io
import struct
import sys

import pytest

import experiments
from common.config import parse
from common.log import MetricsLog, PlainProgress, progress
from common.runs import Session


def test_progress_off_a_terminal_is_plain_lines(capsys):
    bar = progress(100, "cnn")  # pytest's captured stderr is not a terminal
    assert isinstance(bar, PlainProgress)
    bar.update(50)
    bar.set_postfix(loss="0.5")
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    # Closed half-way (an interruption): it says where it stopped, not "done".
    assert len(lines) == 1 and lines[0].startswith("cnn: step 50/100 stopped after ") and lines[0].endswith("loss=0.5")


def test_plain_progress_one_line_per_interval_with_the_newest_postfix():
    stream = io.StringIO()
    bar = PlainProgress(300, "mlp", stream=stream, interval=0.0)
    for chunk in range(3):
        bar.update(100)
        bar.set_postfix(loss=f"{1 - chunk / 10:.1f}")
    bar.close()
    lines = stream.getvalue().splitlines()
    assert [line.split(" steps/s")[0].rsplit(",", 1)[0] for line in lines[:2]] == [
        "mlp: step 100/300 33%", "mlp: step 200/300 67%"]
    assert lines[0].endswith("loss=1.0") and lines[1].endswith("loss=0.9")
    assert lines[2].startswith("mlp: step 300/300 done in ") and lines[2].endswith("loss=0.8")


def test_plain_progress_is_quiet_between_intervals():
    stream = io.StringIO()
    bar = PlainProgress(1000, "mlp", stream=stream, interval=3600.0)
    for _ in range(10):
        bar.update(100)
    bar.close()
    assert len(stream.getvalue().splitlines()) == 1  # the final line only


def read_events(path):
    """Scalars (tag, step, value) of a TFRecord event file: length, crc, data, crc."""
    from tensorboardX.proto import event_pb2

    scalars, data = [], path.read_bytes()
    while data:
        (length,) = struct.unpack("<Q", data[:8])
        event = event_pb2.Event.FromString(data[12:12 + length])
        data = data[16 + length:]
        scalars += [(v.tag, event.step, v.simple_value) for v in event.summary.value]
    return scalars


def test_tensorboard_events_of_the_metrics(tmp_path):
    """One chart per metric: the members are TensorBoard runs (member-k/) beside mean/; eval is test."""
    pytest.importorskip("tensorboardX")
    log = MetricsLog(tmp_path / "metrics.jsonl", tensorboard=tmp_path / "tensorboard")
    log.write({"run": "cnn", "step": 50, "train/loss": [1.0, 3.0], "eval/accuracy": [0.5]})
    log.write({"run": "cnn", "step": 100, "train/loss": [0.5, float("nan")], "eval/accuracy": [0.75]})
    log.hparams({"learning_rate": 0.01, "depths": (8, 16), "dataset": "mnist1d"}, {"claims/reproduced": 3})
    log.close()
    runs = {p.parent.relative_to(tmp_path / "tensorboard").as_posix(): read_events(p)
            for p in (tmp_path / "tensorboard").rglob("events.out.tfevents.*")}
    assert set(runs) == {"mean", "member-0", "member-1", "mean/hparams"}
    mean = runs["mean"]
    assert [(s, v) for t, s, v in mean if t == "cnn/train/loss"] == [(50, 2.0), (100, 0.5)]  # nanmean
    assert ("cnn/train/loss", 50, 1.0) in runs["member-0"] and ("cnn/train/loss", 50, 3.0) in runs["member-1"]
    assert [(s, v) for t, s, v in mean if t == "cnn/test/accuracy"] == [(50, 0.5), (100, 0.75)]
    assert not any("eval" in t for t, _, _ in mean)  # the test split is named test
    assert not any("accuracy" in t for t, _, _ in runs["member-0"])  # one member: the mean alone
    assert ("claims/reproduced", 0, 3.0) in [(t, s or 0, v) for t, s, v in runs["mean/hparams"]]


def test_tensorboard_option_puts_events_under_the_run_folder(tmp_path):
    pytest.importorskip("tensorboardX")
    _, options = parse(experiments.find("ad-graph"), ["--tensorboard"])
    session = Session(tmp_path, tensorboard=options.tensorboard)
    assert session.metrics.tensorboard == tmp_path / "tensorboard"
    assert Session(tmp_path).metrics.tensorboard is None


def test_tensorboard_option_without_the_extra(monkeypatch):
    from common.config import UsageError

    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import fails as if not installed
    with pytest.raises(UsageError, match=r"pip install -e '\.\[tensorboard\]'"):
        parse(experiments.find("ad-graph"), ["--tensorboard"])


def test_the_heartbeat_speaks_only_when_nothing_else_did():
    import io
    import time

    from common.log import Heartbeat, said_something

    stream = io.StringIO()
    with Heartbeat("ad-cost", interval=0.3, stream=stream):
        time.sleep(1.6)  # silent: lines come, once a second at most
    beats = stream.getvalue().splitlines()
    assert beats and all(b.startswith("ad-cost: working (") for b in beats)
    quiet = io.StringIO()
    with Heartbeat("ad-cost", interval=5.0, stream=quiet):
        for _ in range(3):
            said_something()
            time.sleep(0.4)
    assert quiet.getvalue() == ""


def test_warnings_are_said_once_in_words(capsys):
    import warnings

    from common.bench import TooSmallToTime
    from common.log import say_warnings_once

    saved = warnings.showwarning
    try:
        say_warnings_once()
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            for _ in range(3):
                warnings.warn("f runs in 500 us, under 1 ms", TooSmallToTime)
        err = capsys.readouterr().err
    finally:
        warnings.showwarning = saved
    assert err == "warning: f runs in 500 us, under 1 ms\n"
