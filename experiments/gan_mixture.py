"""Mode collapse and its cures on Gaussian mixtures (Metz et al. 2016; Srivastava et al. 2017).

    python run.py gan-mixture --preset quick        # the ring, scaled down (see below): ~3 min of CPU
    python run.py gan-mixture --preset quick-grid   # the same on the 5 x 5 grid
    python run.py gan-mixture --preset paper        # the unrolled-GAN setup, both data sets, 25k steps (a GPU)

Measured on the 2-core machine while it was shared (load average ~15):
quick-grid 8.5 min wall, 2 min 51 s user CPU; quick (ring) 4.3 to 8.3 min wall.

Data: 8 Gaussians on a ring of radius 2 (8 distinct modes: the reference
sampler's linspace with the endpoint gives 7) and the 5 x 5 grid, std 0.02.
The unrolled-GAN setup (Metz et al. 2016, its notebook): generator and
discriminator MLPs with 2 x 128 tanh units, z of dimension 256, batch 512,
Adam lr_D 1e-4, lr_G 1e-3, beta1 0.5, 25k simultaneous steps, 5 unrolling
steps. Methods: the minimax GAN, non-saturating GAN, WGAN-GP (weight 10), R1
(non-saturating loss, gamma/2 E||grad D||^2), unrolled (5 steps of the
discriminator's Adam, differentiated through; minimax loss as in Metz's
notebook) and consensus optimization (minimax loss), each with every seed in
one vmapped program on the foundation's trainer.

VEEGAN (Srivastava et al. 2017, Table 1) reports, modes captured / % high
quality samples (within 3 std of the nearest mode) from 2500 samples: ring
GAN 1 / 99.3, Unrolled 7.6 / 35.6, VEEGAN 8 / 52.9; grid GAN 3.3 / 0.5,
Unrolled 23.6 / 16, VEEGAN 24.6 / 40.

The quick presets cannot train the paper's networks for 25k steps on a
laptop CPU. They keep the setup's shape but shrink it: 2 x 32 tanh units, z
of dimension 16, batch 128, 3000 steps with both learning rates 5x larger
(the same lr_G / lr_D ratio of 10: with equal rates the plain GAN kept all 8
ring modes in a trial run), std 0.05, one data set each. Their numbers are
for that setting, not the paper's.

At the end, the largest real part of the eigenvalues of the Jacobian of each
method's own vector field (Mescheder et al. 2017) is computed matrix-free
(ARPACK on Jacobian-vector products) at the final parameters of the first
`eigen_seeds` seeds, on one fixed batch.
"""

import dataclasses
from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax

from common import plots
from common.config import require_at_least_one, require_positive
from common.data.synthetic import grid_centers, ring_centers, sample_mixture
from common.experiment import Claim, Results
from common.models import MLP
from common.train import Loop, fit, new_state, seed_keys
from experiments.api import main
from research.gan_game import (
    GanBatch,
    GanState,
    alternating_update,
    consensus_field,
    game_field,
    gan_losses,
    leading_eigenvalues,
    simultaneous_update,
    unrolled_g_loss,
)
from research.gan_losses import LOSSES, r1_penalty, wgan_gp_penalty
from research.gan_metrics import mode_coverage

NAME = "gan-mixture"
STUDY = "gan"
PAPER = ("Metz et al. 2016, Unrolled GANs; Srivastava et al. 2017, VEEGAN (Table 1); "
         "Mescheder et al. 2017/2018 (consensus, R1)")
REPRODUCES = ("modes captured / % high-quality samples on the 8-mode ring and 5x5 grid; VEEGAN: ring GAN 1 / 99.3, "
              "unrolled 7.6 / 35.6; grid GAN 3.3 / 0.5, unrolled 23.6 / 16")
QUICK_SECONDS = 180

METHODS = ("gan", "nsgan", "wgan-gp", "r1", "unrolled", "consensus")
DATASETS = ("ring", "grid")
# VEEGAN Table 1: (modes captured, % high quality).
VEEGAN = {
    ("ring", "gan"): (1.0, 99.3), ("ring", "unrolled"): (7.6, 35.6),
    ("grid", "gan"): (3.3, 0.5), ("grid", "unrolled"): (23.6, 16.0),
}
DATA_TAG, EVAL_TAG = 0x5EED, 0xE7A1  # fold_in tags: batches, the fixed evaluation codes


@dataclass(frozen=True)
class Config:
    """GANs on Gaussian mixtures: mode coverage (VEEGAN's metrics) and the field's eigenvalues."""

    seeds: int = 5
    """Independent seeds per method, trained together in one vmapped program."""
    datasets: tuple[str, ...] = DATASETS
    """Subset of: ring grid."""
    methods: tuple[str, ...] = METHODS
    """Subset of: gan nsgan wgan-gp r1 unrolled consensus."""
    steps: int = 25_000
    batch_size: int = 512
    z_dim: int = 256
    hidden: int = 128
    """Units in each of the two tanh layers of both networks."""
    lr_g: float = 1e-3
    lr_d: float = 1e-4
    beta1: float = 0.5
    update: Literal["simultaneous", "alternating"] = "simultaneous"
    """Simultaneous as in the unrolled-GAN notebook; alternating moves the discriminator first."""
    std: float = 0.02
    """Standard deviation of each mixture component."""
    unroll_steps: int = 5
    gp_weight: float = 10.0
    """WGAN-GP weight lambda (Gulrajani et al.), target norm 1."""
    r1_gamma: float = 1.0
    """R1 strength gamma (paper convention gamma/2 E||grad D||^2)."""
    consensus_gamma: float = 1.0
    eval_samples: int = 2500
    """Generated samples for the metrics (VEEGAN's 2500)."""
    eval_every: int = 2500
    chunk: int = 500
    blowup: float = 1e4
    """A seed whose parameter norm exceeds this counts as diverged (stopped, step recorded)."""
    eigen_seeds: int = 1
    """Seeds whose final Jacobian eigenvalues are computed (ARPACK)."""
    eigen_batch: int = 512
    eigen_iterations: int = 100
    """ARPACK restarts at most (each ~20 Jacobian-vector products); NaN if it has not converged."""
    seed: int = 0

    def __post_init__(self):
        positive = ("seeds", "steps", "batch_size", "z_dim", "hidden", "eval_samples", "eval_every", "chunk",
                    "eigen_batch")
        require_at_least_one(self, positive)
        require_positive(self, ("lr_g", "lr_d", "std", "blowup"))
        if self.eval_every % self.chunk:
            raise ValueError(f"eval_every ({self.eval_every}) must be a multiple of chunk ({self.chunk})")
        if not 0 <= self.eigen_seeds <= self.seeds:
            raise ValueError(f"eigen_seeds must be in [0, seeds] (got {self.eigen_seeds})")
        for field, allowed in (("datasets", DATASETS), ("methods", METHODS)):
            values = getattr(self, field)
            if not values or any(v not in allowed for v in values):
                raise ValueError(f"{field} must be a non-empty subset of {' '.join(allowed)} (got {values})")


PRESETS = {
    "quick": Config(datasets=("ring",), steps=3000, batch_size=128, z_dim=16, hidden=32, lr_g=5e-3, lr_d=5e-4,
                    std=0.05, eval_every=500, chunk=500),
    "quick-grid": Config(datasets=("grid",), steps=3000, batch_size=128, z_dim=16, hidden=32, lr_g=5e-3,
                         lr_d=5e-4, std=0.05, eval_every=500, chunk=500),
    "paper": Config(eval_every=2500, chunk=500, eigen_seeds=5),
}


def centers_of(dataset: str) -> jax.Array:
    return ring_centers(8, 2.0) if dataset == "ring" else grid_centers(5, 2.0)


class Players:
    """The two networks and their optimizers for one config."""

    def __init__(self, config: Config):
        self.generator = MLP((config.hidden, config.hidden), 2, activation="tanh", init="xavier")
        self.discriminator = MLP((config.hidden, config.hidden), 1, activation="tanh", init="xavier")
        self.g_opt = optax.adam(config.lr_g, b1=config.beta1)
        self.d_opt = optax.adam(config.lr_d, b1=config.beta1)
        self.z_dim = config.z_dim

    def g_apply(self, params, z):
        return self.generator.apply(params, {}, z)[0]

    def d_apply(self, params, x):
        return self.discriminator.apply(params, {}, x)[0][:, 0]

    def init(self, key):
        key_g, key_d = jax.random.split(key)
        g = self.generator.init_variables(key_g, jnp.zeros((1, self.z_dim)))[0]
        d = self.discriminator.init_variables(key_d, jnp.zeros((1, 2)))[0]
        return new_state({"g": g, "d": d}, {"g": self.g_opt.init(g), "d": self.d_opt.init(d)}, key)


def method_game(method: str, config: Config, players: Players):
    """(g_loss, d_loss, make_field) of a method; make_field(d_opt_state) -> the field it steps along."""
    d_apply = players.d_apply
    penalty, loss = None, LOSSES["nsgan" if method in ("nsgan", "r1") else "gan"]
    if method == "wgan-gp":
        loss = LOSSES["wgan"]

        def penalty(d, x_real, x_fake, key):
            return wgan_gp_penalty(d_apply, d, x_real, x_fake, key, weight=config.gp_weight)
    elif method == "r1":

        def penalty(d, x_real, x_fake, key):
            return r1_penalty(d_apply, d, x_real, config.r1_gamma)

    g_loss, d_loss = gan_losses(loss, players.g_apply, d_apply, penalty)

    def make_field(d_opt_state):
        if method == "unrolled":
            unrolled = unrolled_g_loss(g_loss, d_loss, players.d_opt, d_opt_state, config.unroll_steps)
            return game_field(unrolled, d_loss)
        if method == "consensus":
            return consensus_field(game_field(g_loss, d_loss), config.consensus_gamma)
        return game_field(g_loss, d_loss)

    return g_loss, d_loss, make_field


def gan_step(method: str, config: Config, players: Players):
    """The trainer's step(state, batch): one two-player update with two optimizers."""
    g_loss, d_loss, make_field = method_game(method, config, players)

    def step(state, batch: GanBatch):
        gan = GanState(state.params["g"], state.params["d"], state.opt_state["g"], state.opt_state["d"])
        field = make_field(gan.d_opt_state)
        if config.update == "simultaneous":
            new = simultaneous_update(field, players.g_opt, players.d_opt, gan, batch)
        else:
            new = alternating_update(field, players.g_opt, players.d_opt, gan, batch, generator_first=False)
        params = {"g": new.g_params, "d": new.d_params}
        norm = optax.tree.norm(params)
        metrics = {
            "loss": d_loss(gan.g_params, gan.d_params, batch),
            "g_loss": g_loss(gan.g_params, gan.d_params, batch),
            # NaN once the parameters blow up: the trainer then stops this seed and records the step.
            "param_norm": jnp.where(norm > config.blowup, jnp.nan, norm),
        }
        return state.replace(params=params, opt_state={"g": new.g_opt_state, "d": new.d_opt_state}), metrics

    return step


def batch_sampler(config: Config):
    def sample(centers, key, step):
        key_x, key_z, key_penalty = jax.random.split(jax.random.fold_in(jax.random.fold_in(key, DATA_TAG), step), 3)
        return GanBatch(
            x_real=sample_mixture(key_x, centers, config.batch_size, config.std),
            z=jax.random.normal(key_z, (config.batch_size, config.z_dim)),
            key=key_penalty,
        )

    return sample


def generated(config: Config, players: Players, state):
    """The evaluation samples of one seed: fixed codes drawn from the seed's key."""
    z = jax.random.normal(jax.random.fold_in(state.key, EVAL_TAG), (config.eval_samples, config.z_dim))
    return players.g_apply(state.params["g"], z)


def evaluation(config: Config, players: Players):
    def evaluate(state, centers):
        metrics = mode_coverage(generated(config, players, state), centers, config.std)
        return {"modes": metrics["modes_captured"].astype(jnp.float32), "high_quality": metrics["high_quality"]}

    return evaluate


def largest_real_eigenvalue(method: str, config: Config, players: Players, state, seed: int, centers) -> float:
    """Largest real part of the eigenvalues of the method's field Jacobian at one seed's final point."""
    one = jax.tree.map(lambda a: a[seed], state)
    _, _, make_field = method_game(method, config, players)
    batch = batch_sampler(dataclasses.replace(config, batch_size=config.eigen_batch))(
        centers, jax.random.fold_in(jax.random.key(config.seed), EVAL_TAG), 0)
    values = leading_eigenvalues(make_field(one.opt_state["d"]), one.params["g"], one.params["d"], batch,
                                 k=1, tol=1e-2, maxiter=config.eigen_iterations)
    return float(values.real.max()) if values.size else float("nan")


def run(config: Config, session) -> Results:
    results = Results()
    players = Players(config)
    loop = Loop(steps=config.steps, chunk=config.chunk, eval_every=config.eval_every, checkpoint_every=None)
    rows = []
    for dataset in config.datasets:
        centers = centers_of(dataset)
        for method in config.methods:
            out = fit(
                f"{dataset}-{method}", init=players.init, step=gan_step(method, config, players),
                sample_batch=batch_sampler(config), data=centers, loop=loop,
                keys=seed_keys(config.seed, config.seeds), evaluate=evaluation(config, players),
                eval_data=centers, session=session,
            )
            key = f"{dataset}/{method}"
            modes, quality = out.curve("eval/modes"), out.curve("eval/high_quality")  # (evaluations, seeds)
            samples = np.asarray(jax.vmap(lambda s: generated(config, players, s))(out.state))
            eigen = [largest_real_eigenvalue(method, config, players, out.state, i, centers)
                     for i in range(config.eigen_seeds)]
            results.arrays[f"{key}/eval_step"] = np.asarray(out.history["eval_step"])
            results.arrays[f"{key}/modes"] = modes
            results.arrays[f"{key}/high_quality"] = quality
            results.arrays[f"{key}/samples"] = samples[0]
            results.arrays[f"{key}/diverged_at"] = out.diverged_at
            results.scalars[f"{key}/modes"] = float(np.nanmean(modes[-1]))
            results.scalars[f"{key}/high_quality"] = float(np.nanmean(quality[-1]))
            results.scalars[f"{key}/max_real_eigen"] = float(np.nanmax(eigen)) if eigen else float("nan")
            veegan = VEEGAN.get((dataset, method))
            rows.append({
                "data": dataset, "method": method,
                "modes captured": f"{np.nanmean(modes[-1]):.2f} +- {np.nanstd(modes[-1]):.2f}",
                "% high quality": f"{100 * np.nanmean(quality[-1]):.1f} +- {100 * np.nanstd(quality[-1]):.1f}",
                "VEEGAN modes / %HQ": f"{veegan[0]} / {veegan[1]}" if veegan else "",
                "diverged (step)": ", ".join(str(s) for s in out.diverged_at if s >= 0) or "none",
                "max Re eig (end)": ", ".join(f"{e:.3g}" for e in eigen),
                "steps/s": out.steps_per_second,
            })
            first, last = np.nanmean(modes[0]), np.nanmean(modes[-1])
            results.notes.append(
                f"{dataset} {method}: modes captured {first:.1f} at step {out.history['eval_step'][0]}, "
                f"{last:.1f} at the end (mean over seeds; a falling count is collapse, a jumpy one cycling).")
        centers_np = np.asarray(centers)
        results.arrays[f"{dataset}/centers"] = centers_np
        s = results.scalars
        if {"gan", "unrolled"} <= set(config.methods):
            s[f"{dataset}/unrolled_minus_gan_modes"] = s[f"{dataset}/unrolled/modes"] - s[f"{dataset}/gan/modes"]
    results.tables[f"Modes captured and high-quality samples after {config.steps} steps "
                   f"(mean +- std over {config.seeds} seeds, {config.eval_samples} samples)"] = rows
    results.notes += [
        "A mode counts as captured when at least one of the samples within 3 std of a mode has it as its "
        "nearest mode (VEEGAN); high quality = within 3 std. The count rewards spread: a diffuse generator "
        "lands a few of its 2500 samples near many modes, so read it beside the high-quality share.",
        "max Re eig: largest real part of the eigenvalues of the Jacobian of the method's own update field "
        "at the end (seed order), ARPACK to tol 1e-2; > 0 means the point is not locally attracting.",
        f"Setting: hidden {config.hidden}, z {config.z_dim}, batch {config.batch_size}, lr_G {config.lr_g}, "
        f"lr_D {config.lr_d}, std {config.std}, {config.steps} {config.update} steps.",
        "WGAN-GP here takes one critic step per generator step at the setup's lr_D = lr_G / 10; its own "
        "recipe (5 critic steps, Adam betas (0, 0.9)) is not used, so a weak critic is expected.",
    ]
    return results


def figures(results: Results, directory) -> None:
    datasets = [d for d in DATASETS if f"{d}/centers" in results.arrays]
    methods = [m for m in METHODS if any(f"{d}/{m}/samples" in results.arrays for d in datasets)]
    fig, axes = plots.new_figure(len(methods), len(datasets), width=2.6, height=2.6)
    for row, dataset in enumerate(datasets):
        centers = results.arrays[f"{dataset}/centers"]
        limit = np.abs(centers).max() + 1.5
        for col, method in enumerate(methods):
            ax = axes[row, col]
            samples = results.arrays[f"{dataset}/{method}/samples"]
            ax.scatter(samples[:, 0], samples[:, 1], s=1, alpha=0.3, color="C0", rasterized=True)
            ax.scatter(centers[:, 0], centers[:, 1], s=12, marker="x", color="C3")
            ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xticks=[], yticks=[],
                   title=f"{dataset}: {method}\nmodes {results.scalars[f'{dataset}/{method}/modes']:.1f}")
            ax.set_aspect("equal")
    plots.save(fig, directory, "samples", **{k: v for k, v in results.arrays.items()
                                              if k.endswith(("samples", "centers"))})

    fig, axes = plots.new_figure(len(datasets), 1)
    for ax, dataset in zip(axes[0], datasets):
        for method in methods:
            key = f"{dataset}/{method}"
            plots.seed_band(ax, results.arrays[f"{key}/eval_step"], results.arrays[f"{key}/modes"], method)
        ax.set(xlabel="step", ylabel="modes captured", title=dataset)
        ax.legend(loc="lower left", ncol=3, fontsize=6)
    plots.save(fig, directory, "modes_over_training", **{k: v for k, v in results.arrays.items()
                                                          if k.endswith(("modes", "eval_step"))})


CLAIMS = [
    Claim("ring: the plain GAN captures fewer modes than the unrolled GAN (difference of means > 0)",
          "7.6 - 1 = 6.6 (VEEGAN)", lambda r: r.scalars["ring/unrolled_minus_gan_modes"], lambda v: v > 0),
    Claim("grid: the plain GAN captures fewer modes than the unrolled GAN (difference of means > 0)",
          "23.6 - 3.3 = 20.3 (VEEGAN)", lambda r: r.scalars["grid/unrolled_minus_gan_modes"], lambda v: v > 0),
    Claim("ring: the plain GAN collapses to at most 2 of 8 modes", "1 (VEEGAN)",
          lambda r: r.scalars["ring/gan/modes"], lambda v: v <= 2),
    Claim("ring: the unrolled GAN captures at least 6 of 8 modes", "7.6 (VEEGAN)",
          lambda r: r.scalars["ring/unrolled/modes"], lambda v: v >= 6),
    Claim("grid: the unrolled GAN captures at least 20 of 25 modes", "23.6 (VEEGAN)",
          lambda r: r.scalars["grid/unrolled/modes"], lambda v: v >= 20),
]


if __name__ == "__main__":
    main(NAME)
