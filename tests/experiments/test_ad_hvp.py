"""ad-hvp on a shrunk config: the four methods agree in float64, an HVP costs a few
gradients, forward-over-reverse has the fewest XLA temporaries on the MLP, and every
equal-FLOP method is timed in interleaved rounds with an A/A (no assertion on speed);
a tie, the same program timed three times, fails the time claim."""

import dataclasses
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from common import bench
from common.experiment import Results, evaluate, evaluate_claims
from common.runs import Session
from experiments.autodiff import hvp as E
from research.autodiff import hvp_study as S


def test_ad_hvp_shrunk_run(tmp_path):
    config = dataclasses.replace(E.PRESETS["quick"], seeds=1, cookbook_shape=(6, 5), mlp_width=4, batch=8,
                                 max_hessian_dim=500, cookbook_time_batch=4, mlp_time_batch=2, rounds=3)
    results = E.run(config, Session(None))
    agreement, pearlmutter, memory, _ = evaluate_claims(E.CLAIMS, results)
    assert agreement.verdict == "reproduced" and results.scalars["agreement/worst"] < 1e-12
    assert agreement.control.verdict == "not reproduced"  # the finite difference is off by ~1e-6
    # an HVP costs 2-3 gradients; forming H (both functions are small enough here) costs n of them
    assert pearlmutter.verdict == "reproduced" and 2.0 <= pearlmutter.value <= 3.0
    assert pearlmutter.control.verdict == "not reproduced" and pearlmutter.control.value > 20
    assert memory.verdict == "reproduced" and memory.control.verdict == "not reproduced"
    rows = next(iter(results.tables.values()))
    assert len(rows) == 10  # 2 functions x (4 methods + the A/A row); the MLP has 214 params <= 500
    timed = [r for r in rows if r["method"] in E.TIMED]
    assert all(np.isfinite(r["ms per call"]) and r["ms per call"] > 0 for r in timed)
    mlp = {r["method"]: r["MFLOP"] for r in rows if r["function"].startswith("MLP") and "MFLOP" in r}
    assert mlp["full_hessian"] > 10 * mlp["fwd_over_rev"]  # the full Hessian does n HVPs' arithmetic
    rounds = bench.rounds_from_arrays(results.arrays, "time/mlp", "fwd_over_rev")
    assert set(rounds.seconds) == {*E.TIMED, "fwd_over_rev" + bench.AA_SUFFIX}
    E.figures(results, tmp_path)
    assert (tmp_path / "hvp_memory_and_time.png").exists()


def test_batched_hvps_are_the_single_hvps_stacked():
    rng = np.random.default_rng(0)
    loss, params, v, _ = S.problems((3, 4), 4, 4, rng, jnp.float32)["cookbook sum tanh(X)^2"]
    ps, vs = S.stack(params, 3, rng), S.stack(v, 3, rng)
    batched = S.batched("fwd_over_rev", loss, 0)(ps, vs)
    single = S.hvp_program("fwd_over_rev", loss)
    for i in range(3):
        np.testing.assert_allclose(batched[i], single(ps[i], vs[i]), rtol=1e-5)


def test_the_same_program_three_times_fails_the_time_claim():
    """A tie measured on this machine: one compiled program timed under the three methods' names
    in 7 interleaved rounds (the fewest a timing claim rests on) must not say "reproduced"."""
    x = jnp.ones((256, 256))
    program = jax.jit(lambda a: jnp.tanh(a @ a @ a))
    program(x).block_until_ready()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bench.TooSmallToTime)
        rounds = bench.interleaved({m: lambda: program(x) for m in E.TIMED}, "fwd_over_rev", rounds=7)
    tie = Results(arrays={**rounds.as_arrays("time/cookbook"), **rounds.as_arrays("time/mlp")})
    claim = next(c for c in E.CLAIMS if "fastest" in c.statement)
    outcome = evaluate(claim, tie)
    assert outcome.verdict != "reproduced", (outcome.measured, outcome.interval)
