"""The trainer benchmark: steps/s of one MLP classification step (MNIST-1D,
MLP 2 x 100 ReLU, Adam, batch 100) run three ways, for 1, 8 and 64 vmapped
seeds. docs/benchmarks.md holds the measured table and the machine.

    python run.py bench                                  # the documented table
    python run.py bench --steps 1000 --repeats 3 --seeds 1 8

Variants, all from the same initial states over the same batches (the
trainer's `EpochBatches`), so they end at the same parameters (checked:
`max_param_difference` in bench.json):
- trainer: `common.train.compile_chunk`, the jit(scan(vmap(guarded step)))
  of `chunk` steps that `fit` compiles, called by a host loop that fetches
  and averages each chunk's metrics as `fit` does;
- bare scan: one jit(lax.scan) of the unguarded step over all steps, batch
  indices drawn inside (the limit: no guard, no chunks, no host loop);
- per-step loop: jit(vmap(step)) called from Python once a step, the batch
  gathered on the host (the usual example style; no sync until the end).
Also reported: the trainer's chunk alone (device time, without the host
loop) and `fit` itself as it reports its speed (compile excluded by skipping
its first chunk), to locate any gap between trainer and bare scan.
Timing is `common.bench`: compile timed apart, warm-up, block_until_ready,
the median of repeats.
"""

import json
import os
import sys
from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from common import bench, environment, parallel, runs
from common.config import UsageError, parse, require_numbers_representable
from common.data import load
from common.log import jsonable
from common.models import MLP
from common.train import Loop, compile_chunk, epoch_batches, fit, init_states, new_state, seed_keys
from common.train import supervised_step

NAME = "bench"
REPRODUCES = "steps/s of the trainer vs a bare jit(lax.scan) and a per-step jitted loop"


@dataclass(frozen=True)
class Config:
    """Trainer benchmark: MLP 2 x 100 on MNIST-1D, Adam, batch 100."""

    steps: int = 1000
    """Optimizer steps per timed run (a multiple of chunk)."""
    repeats: int = 5
    """Timed runs per variant; the median is reported."""
    seeds: tuple[int, ...] = (1, 8, 64)
    """Numbers of vmapped seeds to measure."""
    chunk: int = 250
    """Steps per compiled lax.scan of the trainer (mnist1d-baselines' quick preset)."""
    batch_size: int = 100
    width: int = 100
    """Width of both hidden layers."""
    learning_rate: float = 1e-2
    seed: int = 0

    def __post_init__(self):
        require_numbers_representable(self)
        for field in ("steps", "repeats", "chunk", "batch_size", "width"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be at least 1 (got {getattr(self, field)})")
        if not self.seeds or min(self.seeds) < 1:
            raise ValueError(f"seeds must be positive counts (got {self.seeds})")
        if self.steps % self.chunk:
            raise ValueError(f"steps ({self.steps}) must be a multiple of chunk ({self.chunk})")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive (got {self.learning_rate})")


PRESETS = {
    "quick": Config(),
    "tiny": Config(steps=40, repeats=1, seeds=(2,), chunk=20),  # for tests
}


@dataclass(frozen=True)
class Problem:
    """The benchmarked step and everything it needs; `data_host` is numpy."""

    init: object
    step: object
    sampler: object
    data: tuple
    data_host: tuple


def problem(config: Config) -> Problem:
    dataset = load("mnist1d")
    model = MLP((config.width, config.width), dataset.num_classes, activation="relu", init="he")
    optimizer = optax.adam(config.learning_rate)

    def init(key):
        params, model_state = model.init_variables(key, dataset.x_train[:1])
        return new_state(params, optimizer.init(params), key, model_state)

    data_host = (dataset.x_train, dataset.y_train)
    return Problem(init, supervised_step(model, optimizer), epoch_batches(config.batch_size),
                   parallel.put_replicated(data_host), data_host)


def counted(step):
    """The step plus the step counter, which the trainer's guard advances."""

    def plain(state, batch):
        state, metrics = step(state, batch)
        return state.replace(step=state.step + 1), metrics

    return plain


def plan_all(sampler, steps: int, n: int):
    """Batch indices (seeds, steps, batch) from each seed's current step."""
    return jax.vmap(lambda s: sampler.plan(s.key, s.step, steps, n))


def bare_scan(prob: Problem, steps: int):
    """scan of the vmapped step over all `steps`, to be jitted; returns
    (states, per-step metrics) like the trainer's chunk."""
    step, sampler = counted(prob.step), prob.sampler
    n = prob.data_host[0].shape[0]

    def run(states, data):
        index = jnp.swapaxes(plan_all(sampler, steps, n)(states), 0, 1)  # (steps, seeds, batch)

        def body(s, i):
            batch = jax.vmap(sampler.take, in_axes=(None, 0))(data, i)
            return jax.vmap(step)(s, batch)

        return lax.scan(body, states, index)

    return run


def per_step_loop(prob: Problem, steps: int, step):
    """A Python loop over jit(step), numpy batches gathered on the host;
    run(states) -> states after `steps` steps."""
    step_fn = jax.jit(step)
    plan_fn = jax.jit(plan_all(prob.sampler, steps, prob.data_host[0].shape[0]))
    x, y = prob.data_host

    def run(states):
        index = np.asarray(plan_fn(states))  # (seeds, steps, batch)
        for t in range(steps):
            states, _ = step_fn(states, (x[index[:, t]], y[index[:, t]]))
        return states

    return run


def trainer_loop(prob: Problem, steps: int, chunk: int, chunk_fn):
    """`fit`'s host loop around its compiled chunk: per chunk, run it, fetch
    the metrics to the host and average them over the chunk."""

    def run(states):
        for _ in range(steps // chunk):
            states, metrics = chunk_fn(states, prob.data)
            metrics = parallel.to_host(metrics)
            {k: np.nanmean(v, axis=0) for k, v in metrics.items()}  # fit's per-chunk record
        return states

    return run


@dataclass
class Measured:
    rows: list[dict]  # one per variant
    flops_per_seed_step: float  # XLA's count for the step
    params: dict  # variant -> params after `steps` steps from the same "initial" params


def measure(prob: Problem, config: Config, seeds: int) -> Measured:
    """Time every variant for one seed count, and keep each one's parameters
    after one run from the same initial states (to check they agree)."""
    steps, repeats = config.steps, config.repeats
    keys = seed_keys(config.seed, seeds)
    initial = init_states(prob.init, keys, "seeds")

    fitted = fit("bench", init=prob.init, step=prob.step, sample_batch=prob.sampler,
                 data=prob.data_host, loop=Loop(steps=steps, chunk=config.chunk), keys=keys)

    scan = bare_scan(prob, steps)
    bare = bench.time_function(scan, initial, prob.data, repeats=repeats)
    bare_final = jax.jit(scan)(initial, prob.data)[0]  # compiled above: a cache hit

    chunk_fn = compile_chunk(prob.step, prob.sampler, config.chunk)
    chunk = bench.time_function(chunk_fn, initial, prob.data, repeats=repeats)
    trainer_run = trainer_loop(prob, steps, config.chunk, chunk_fn)
    current = jax.tree.map(jnp.copy, initial)

    def trainer_continuing():
        # the chunk donates its input, so each run goes on from the last one's states
        nonlocal current
        current = trainer_run(current)
        return current

    trainer_seconds = bench.time_callable(trainer_continuing, repeats=repeats)

    step = jax.vmap(counted(prob.step))
    batch = tuple(np.broadcast_to(a[: config.batch_size], (seeds, config.batch_size, *a.shape[1:]))
                  for a in prob.data_host)
    one_step = bench.time_function(step, initial, batch, repeats=repeats)
    loop_run = per_step_loop(prob, steps, step)
    loop_seconds = bench.time_callable(lambda: loop_run(initial), repeats=repeats)

    def row(variant, seconds, compile_seconds=float("nan")):
        rate = steps / seconds
        return {"seeds": seeds, "variant": variant, "steps_per_s": rate,
                "seed_steps_per_s": seeds * rate, "vs_bare_scan": bare.seconds / seconds,
                "compile_s": compile_seconds}

    rows = [
        row("bare jit(lax.scan)", bare.seconds, bare.compile_seconds),
        row("trainer (chunk + host loop)", trainer_seconds, chunk.compile_seconds),
        row("per-step jitted loop", loop_seconds, one_step.compile_seconds),
        row("trainer chunk alone", chunk.seconds * steps / config.chunk),
        row("fit() as it reports, 1 run", steps / fitted.steps_per_second),
    ]
    params = {"trainer": fitted.state.params, "bare scan": bare_final.params,
              "per-step loop": loop_run(initial).params, "initial": initial.params}
    return Measured(rows, one_step.flops / seeds, params)


def max_difference(a, b) -> float:
    pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b))
    return max(float(jnp.max(jnp.abs(x - y))) for x, y in pairs)


def markdown(rows: list[dict]) -> str:
    lines = ["| seeds | variant | steps/s | seed-steps/s | x bare scan | compile s |",
             "|---:|:---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['seeds']} | {r['variant']} | {r['steps_per_s']:.0f} | "
                     f"{r['seed_steps_per_s']:.0f} | {r['vs_bare_scan']:.2f} | "
                     f"{r['compile_s']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Parse (bad input raises UsageError: run.py prints one line, exit 2),
    measure, print the table, save runs/bench/<timestamp>/bench.{json,md}."""
    config, options = parse(sys.modules[__name__], argv)
    if options.resume:
        raise UsageError("bench does not resume; run it again")
    if options.data_dir is not None:
        raise UsageError("--data-dir does nothing here: bench trains on MNIST-1D, which needs no files")
    if options.out is not None:
        runs.check_out_folder(options.out, resume=False)
    load_before = os.getloadavg()
    prob = problem(config)
    rows, differences, flops = [], {}, {}
    for seeds in config.seeds:
        measured = measure(prob, config, seeds)
        print(markdown(measured.rows).split("\n", 2)[2], end="", flush=True)  # rows as they come
        rows += measured.rows
        flops[seeds] = measured.flops_per_seed_step
        reference = measured.params["bare scan"]
        differences[seeds] = {name: max_difference(measured.params[name], reference)
                              for name in ("trainer", "per-step loop")}
    load_after = os.getloadavg()
    table = markdown(rows)
    machine = environment.describe()
    header = (f"steps={config.steps} chunk={config.chunk} repeats={config.repeats} (median); "
              f"{machine['backend']} {machine['devices'][0]} x{machine['device_count']}, "
              f"{machine['cpu_count']} CPUs, jax {machine['jax']}; load average "
              f"{load_before[0]:.1f} before, {load_after[0]:.1f} after\n")
    print(header + "\n" + table)
    folder = options.out or runs.new_folder(NAME)
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"config": asdict(config), "environment": machine,
               "load_average_before": load_before, "load_average_after": load_after, "rows": rows,
               "max_param_difference": differences, "xla_flops_per_seed_step": flops}
    runs._write_atomic(folder / "bench.json", json.dumps(jsonable(payload), indent=2))
    runs._write_atomic(folder / "bench.md", header + "\n" + table)
    print(f"wrote {folder / 'bench.json'} and bench.md")
    return 0
