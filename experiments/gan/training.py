"""Training the mixture GANs for gan-mixture and gan-eigen: the fits of one data set, one thread per
compiled program, each fit's mode metrics and final samples."""

from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np

from common.parallel import map_independent
from common.train import FitResult, Loop, fit, init_states, seed_keys
from research.gan.methods import PROGRAM, batch_sampler, gan_step, players, rates_of, recipe
from research.gan.metrics import CENTERS, Coverage, scored

SLOWEST_FIRST = ("unrolled", "consensus", "gan", "wgan-gp")  # the order threads take programs in


class Fit(NamedTuple):
    """One training: its name (checkpoints, log lines), method, recipe, and its spectrum probe (or None)."""

    name: str
    method: str
    recipe: object  # research.gan.methods.Recipe
    observe: Callable | None = None  # observe(states) -> dict of (runs,) arrays at every evaluation
    seeds: int = 0  # 0: the config's
    steps: int = 0  # 0: the config's


class Trained(NamedTuple):
    """What a fit gives the report: the trainer's result, its mode metrics and the final samples of seed 0."""

    out: FitResult
    coverage: Coverage
    samples: np.ndarray  # (eval_samples, 2)


def train_all(config, dataset: str, fits: list[Fit], session) -> dict[str, Trained]:
    """Every fit by name: one thread per program at a time, slowest first (each program's fits compile one
    chunk program; two threads compile side by side)."""
    nets, centers = players(config), CENTERS[dataset]()
    samples = jax.jit(jax.vmap(lambda state: nets.generated(state, config.eval_samples)))
    jobs = {}
    for job in fits:
        jobs.setdefault(PROGRAM[job.method], []).append(job)
    order = sorted(jobs, key=SLOWEST_FIRST.index)
    if jax.config.jax_enable_compilation_cache and jax.config.jax_compilation_cache_dir:
        # Every fit's initial states come from one program (the rates are its inputs): compiled here, the
        # threads find it in the persistent cache instead of both compiling it at once.
        first_fit = jobs[order[0]][0]
        init_states(nets.initializer(first_fit.recipe), seed_keys(config.seed, config.seeds), "seeds",
                    rates_of(first_fit.recipe).for_runs(config.seeds))

    def train_program(program: str) -> list[Trained]:
        program_recipe = recipe(program, config)
        step = gan_step(program, nets, program_recipe, config.unroll_steps, config.blowup)
        sample_batch = batch_sampler(config.batch_size, config.z_dim, config.std, program_recipe.critic_steps)
        evaluate = lambda state, centers: scored(config, nets.generated(state, config.eval_samples), centers)
        trained = []
        for job in jobs[program]:
            loop = Loop(steps=job.steps or config.steps, chunk=config.chunk, eval_every=config.eval_every,
                        checkpoint_every=None)
            out = fit(job.name, init=nets.initializer(job.recipe), step=step, sample_batch=sample_batch, data=centers,
                      loop=loop, keys=seed_keys(config.seed, job.seeds or config.seeds), members=rates_of(job.recipe),
                      evaluate=evaluate, eval_data=centers, session=session,
                      observe=None if job.observe is None else (lambda states, _, job=job: job.observe(states)))
            coverage = Coverage(*(out.curve(f"eval/{name}") for name in Coverage._fields))
            trained.append(Trained(out, coverage, np.asarray(samples(out.state))[0]))
        return trained

    done = map_independent(train_program, order)
    return {job.name: trained for program, outs in zip(order, done) for job, trained in zip(jobs[program], outs)}

