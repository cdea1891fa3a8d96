"""The programs trainer-bench times: one supervised step run as `fit`'s compiled chunk and host loop,
as a bare jit(lax.scan) and as a per-step jitted loop. Every variant of one seed count starts from the
same states and draws the same batches, so all three end at the same parameters."""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from common import parallel
from common.bench import Staged
from common.models import MLP
from common.train import (
    compile_chunk,
    epoch_batches,
    new_state,
    supervised_step,
)


@dataclass(frozen=True)
class Problem:
    """The benchmarked step and what it needs; `data_host` is numpy."""

    model: MLP
    init: Callable
    step: Callable
    sampler: object
    data: tuple
    data_host: tuple


def problem(dataset, width: int, learning_rate: float, batch_size: int) -> Problem:
    """MLP 2 x width (ReLU, He init), Adam, `supervised_step`, epoch batches."""
    model = MLP((width, width), dataset.num_classes, activation="relu", init="he")
    optimizer = optax.adam(learning_rate)

    def init(key):
        params, model_state = model.init_variables(key, dataset.x_train[:1])
        return new_state(params, optimizer.init(params), key, model_state)

    data_host = (dataset.x_train, dataset.y_train)
    return Problem(model, init, supervised_step(model, optimizer), epoch_batches(batch_size),
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
    """jit(scan of the vmapped step over all `steps`), batch indices drawn inside."""
    step, sampler = counted(prob.step), prob.sampler
    n = prob.data_host[0].shape[0]

    def run(states, data):
        index = jnp.swapaxes(plan_all(sampler, steps, n)(states), 0, 1)  # (steps, seeds, batch)

        def body(s, i):
            return jax.vmap(step)(s, jax.vmap(sampler.take, in_axes=(None, 0))(data, i))

        return lax.scan(body, states, index)

    return jax.jit(run)


def per_step_loop(prob: Problem, steps: int):
    """A Python loop over jit(vmap(step)), numpy batches gathered on the host."""
    step_fn = jax.jit(jax.vmap(counted(prob.step)))
    plan_fn = jax.jit(plan_all(prob.sampler, steps, prob.data_host[0].shape[0]))
    x, y = prob.data_host

    def run(states):
        index = np.asarray(plan_fn(states))  # (seeds, steps, batch)
        for t in range(steps):
            states, _ = step_fn(states, (x[index[:, t]], y[index[:, t]]))
        return states

    return run


def trainer_loop(prob: Problem, steps: int, chunk: int):
    """`fit`'s host loop around its compiled chunk: run each chunk, fetch its
    metrics and average them over the chunk."""
    chunk_fn = compile_chunk(prob.step, prob.sampler, chunk)

    def run(states):
        for _ in range(steps // chunk):
            states, metrics = chunk_fn(states, prob.data)
            {k: np.nanmean(v, axis=0) for k, v in parallel.to_host(metrics).items()}  # fit's record
        return states

    return run


@partial(jax.jit, static_argnums=1)
def first_seeds(states, seeds: int):
    """The first `seeds` seeds' states: those an init of `seeds` seeds gives (seed keys are
    prefix-stable), without compiling that init."""
    return jax.tree.map(lambda a: a[:seeds], states)


def scan_variants(prob: Problem, steps: int, chunk: int, initial) -> tuple[dict[str, Staged], dict]:
    """Trainer and bare scan (and the per-step loop at one seed), warmed up, and each one's
    parameters after one run from the same states `initial`: names `bare_<seeds>`, `trainer_<seeds>`,
    `per_step_1`."""
    seeds = initial.step.shape[0]
    fresh = lambda: jax.tree.map(jnp.copy, initial)  # the chunk donates its input
    bare, trainer = bare_scan(prob, steps), trainer_loop(prob, steps, chunk)
    variants = {f"bare_{seeds}": Staged(lambda: initial, lambda s: bare(s, prob.data)[0]),
                f"trainer_{seeds}": Staged(fresh, trainer)}
    if seeds == 1:
        variants["per_step_1"] = Staged(lambda: initial, per_step_loop(prob, steps))
    params = {name: v.run(v.setup()).params for name, v in variants.items()}  # also the warm-up
    return variants, params


@jax.jit
def _max_differences(a, b):
    return jnp.stack([jnp.max(jnp.abs(x - y)) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b))])


def max_difference(a, b) -> float:
    """Largest |a - b| over two parameter trees (one compiled program per tree shape)."""
    return float(np.max(_max_differences(a, b)))


BACKEND_COMPILE, CACHE_HIT = "/jax/core/compile/backend_compile_duration", "/jax/compilation_cache/cache_hits"


@contextlib.contextmanager
def xla_programs():
    """Counts, while open, JAX's requests for XLA programs (JAX's monitoring events, this process):
    `programs` built (each compiled by XLA or loaded from the persistent compilation cache),
    `cache_hits` loaded, and `seconds` spent in both. JAX decides once per process whether it uses the
    persistent cache, and stores only programs that took over jax_persistent_cache_min_compile_time_secs
    to compile: programs - cache_hits were compiled here."""
    counts = {"programs": 0, "cache_hits": 0, "seconds": 0.0}

    def on_duration(event: str, duration_secs: float, **_) -> None:
        if event == BACKEND_COMPILE:
            counts["programs"] += 1
            counts["seconds"] += duration_secs

    def on_event(event: str, **_) -> None:
        counts["cache_hits"] += event == CACHE_HIT

    jax.monitoring.register_event_duration_secs_listener(on_duration)
    jax.monitoring.register_event_listener(on_event)
    try:
        yield counts
    finally:
        jax.monitoring.unregister_event_duration_listener(on_duration)
        jax.monitoring.unregister_event_listener(on_event)
