"""common.bench.interleaved: every program (and the reference's A/A copy) timed once a
round, a Staged program's set-up left out of its time, 'too small' decided on the
fastest round."""

import itertools
import time
import warnings

import numpy as np
import pytest

from common import bench


def sleeper(seconds):
    return lambda *_: time.sleep(seconds)


def test_every_program_and_the_reference_copy_are_timed_each_round():
    rounds = bench.interleaved({"a": sleeper(2e-3), "b": sleeper(4e-3)}, "a", rounds=3, warmup=0)
    assert set(rounds.seconds) == {"a", "b", "a" + bench.AA_SUFFIX}
    assert all(v.shape == (3,) for v in rounds.seconds.values())
    ratio = rounds.ratio("b")
    assert 0 < ratio.interval[0] <= ratio.value <= ratio.interval[1]  # no timed assertion: the machine is shared


def test_a_staged_programs_setup_is_not_timed():
    slow_setup = bench.Staged(setup=lambda: time.sleep(0.05) or 7, run=lambda x: time.sleep(2e-3) or x)
    rounds = bench.interleaved({"staged": slow_setup}, "staged", rounds=2, warmup=1)
    assert np.all(rounds.seconds["staged"] < 0.03)


def test_too_small_is_decided_on_the_fastest_round(monkeypatch):
    """A fake clock (each program advances it by its duration): the decision is on the fastest
    round whatever the machine's load."""
    now = [0.0]
    monkeypatch.setattr(bench.time, "perf_counter", lambda: now[0])

    def takes(*seconds):  # one duration per call, in turn (the reference runs twice a round: its A/A)
        durations = itertools.cycle(seconds)
        return lambda: now.__setitem__(0, now[0] + next(durations))

    with pytest.warns(bench.TooSmallToTime):  # one fast round among slow ones (a loaded machine)
        rounds = bench.interleaved({"r": takes(2e-3), "p": takes(5e-3, 1e-5, 5e-3)}, "r", rounds=3,
                                   warmup=0)
    assert rounds.too_small == ("p",)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bench.interleaved({"q": takes(2e-3)}, "q", rounds=2, warmup=0).too_small == ()


@pytest.mark.parametrize("reference, rounds, message", [("x", 3, "not one of"), ("p", 1, "at least 2")])
def test_impossible_requests_are_errors(reference, rounds, message):
    with pytest.raises(ValueError, match=message):
        bench.interleaved({"p": sleeper(0)}, reference, rounds=rounds)
