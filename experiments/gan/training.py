"""Training the mixture GANs for gan-mixture and gan-eigen: each method's recipe from a Config, the fits of
one data set (one thread per compiled program), the run-time controls, and the records the runs hand on."""

from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np

from common import config as checks
from common.data.synthetic import grid_centers, ring_centers
from common.parallel import map_independent
from common.train import FitResult, Loop, fit, init_states, seed_keys
from research.gan.methods import PROGRAM, batch_sampler, gan_step, players, rates_of, recipe
from research.gan.metrics import control_metrics, scored

DATASETS = ("ring", "grid")
CENTERS = {"ring": lambda: ring_centers(8, 2.0), "grid": lambda: grid_centers(5, 2.0)}
SLOWEST_FIRST = ("unrolled", "consensus", "gan", "wgan-gp")  # the order threads take programs in


def validate(config, subsets: dict[str, tuple[str, ...]]) -> None:
    """The checks both experiments' Configs share; `subsets`: tuple fields and the names each may hold."""
    checks.require_numbers_representable(config)
    checks.require_distinct(config, tuple(subsets))
    checks.require_at_least_one(config, ("seeds", "steps", "batch_size", "z_dim", "hidden", "eval_samples", "eval_every",
                                  "chunk", "unroll_steps", "critic_steps", "min_count"))
    checks.require_positive(config, ("lr_g", "lr_d", "wgan_lr", "std", "blowup", "init_gain"))
    checks.require_in_range(config, ("beta1", "wgan_betas"), 0.0, 1.0, open_high=True)
    checks.require_in_range(config, ("hq_floor",), 0.0, 1.0)
    checks.require_non_negative(config, ("gp_weight", "r1_gamma", "consensus_gamma"))
    if config.eval_every % config.chunk:
        raise ValueError(f"eval_every ({config.eval_every}) must be a multiple of chunk ({config.chunk})")
    for field, allowed in subsets.items():
        values = getattr(config, field)
        if not values or any(v not in allowed for v in values):
            raise ValueError(f"{field} must be a non-empty subset of {' '.join(allowed)} (got {values})")


def unused_by_method(config) -> dict[str, str]:
    by_method = {"unroll_steps": "unrolled", "gp_weight": "wgan-gp", "wgan_lr": "wgan-gp", "wgan_betas": "wgan-gp",
                 "critic_steps": "wgan-gp", "r1_gamma": "r1", "consensus_gamma": "consensus"}
    unused = {field: f"only the {method} method uses it and --methods leaves {method} out"
              for field, method in by_method.items() if method not in config.methods}
    return unused | ({"init_gain": "only the orthogonal init has a gain"} if config.init != "orthogonal" else {})


def reference(config, dataset: str, kind: str) -> "Coverage":
    """One run-time control's metrics (`control_metrics`) as one evaluation of every seed."""
    measured = control_metrics(config, CENTERS[dataset]())[kind]
    return Coverage(*(np.asarray(measured[name])[None] for name in Coverage._fields))


class Coverage(NamedTuple):
    """Mode metrics at each evaluation (points, seeds), `hits` (points, seeds, modes)."""

    modes: np.ndarray
    high_quality: np.ndarray
    covered: np.ndarray
    kl: np.ndarray
    hits: np.ndarray


class Fit(NamedTuple):
    """One training: its name (checkpoints, log lines), method, recipe, and its spectrum probe (or None)."""

    name: str
    method: str
    recipe: object  # research.gan.methods.Recipe
    observe: Callable | None = None  # observe(states) -> dict of (runs,) arrays at every evaluation


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
        loop = Loop(steps=config.steps, chunk=config.chunk, eval_every=config.eval_every, checkpoint_every=None)
        trained = []
        for job in jobs[program]:
            out = fit(job.name, init=nets.initializer(job.recipe), step=step, sample_batch=sample_batch, data=centers,
                      loop=loop, keys=seed_keys(config.seed, config.seeds), members=rates_of(job.recipe),
                      evaluate=evaluate, eval_data=centers, session=session,
                      observe=None if job.observe is None else (lambda states, _, job=job: job.observe(states)))
            coverage = Coverage(*(out.curve(f"eval/{name}") for name in Coverage._fields))
            trained.append(Trained(out, coverage, np.asarray(samples(out.state))[0]))
        return trained

    done = map_independent(train_program, order)
    return {job.name: trained for program, outs in zip(order, done) for job, trained in zip(jobs[program], outs)}
