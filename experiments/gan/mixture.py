"""Mode collapse and its cures on Gaussian mixtures (Metz et al. 2016; Srivastava et al. 2017).

    python run.py gan-mixture --preset quick        # the ring, scaled down (see below)
    python run.py gan-mixture --preset quick-grid   # the same on the 5 x 5 grid
    python run.py gan-mixture --preset paper        # the unrolled-GAN setup, both data sets, 25k steps (a GPU)

Data: 8 Gaussians on a ring of radius 2 (8 distinct modes: the reference
sampler's linspace with the endpoint gives 7) and the 5 x 5 grid, std 0.02
(the paper's, in every preset: the metric's 3-std radius scales with it, and
at std 0.05 an untrained N(0, I) blob already "captures" 7-8 ring modes).

Each method runs with its paper's recipe (the report lists them):
- gan (minimax), nsgan, unrolled, r1, consensus: the unrolled-GAN setup
  (Metz et al. 2016, its notebook): 2 x 128 tanh MLPs, z of dimension 256,
  batch 512, Adam lr_D 1e-4, lr_G 1e-3, beta1 0.5, 25k simultaneous steps,
  5 unrolling steps (the discriminator's Adam, differentiated through). R1
  (non-saturating loss, gamma/2 E||grad D||^2) and consensus (minimax loss)
  are given the same setup: Mescheder et al. give no 2-D recipe of their own.
- wgan-gp: Gulrajani et al. 2017's recipe: 5 critic steps per generator step
  (each on a fresh batch), Adam(1e-4, betas (0, 0.9)) for both, lambda 10.

Metrics (VEEGAN, Srivastava et al. 2017): a sample is high quality (HQ)
within 3 std of its nearest mode. VEEGAN's "modes captured" counts modes
with at least one HQ sample; it rewards spread, so the claims read
*covered modes*: modes with at least `min_count` HQ samples, counted only
when the HQ share is at least `hq_floor` (`gan_metrics.covered_modes`),
checked against an untrained N(0, I) generator measured in the same run.
Collapse as the papers mean it is few modes AND most samples high quality:
covered modes <= 2 with an HQ share >= 0.5; tracked over training as the
mass per mode (mode hopping), the HQ share and KL(mode histogram || uniform).

VEEGAN Table 1, modes captured / % HQ from 2500 samples: ring GAN 1 / 99.3,
Unrolled 7.6 / 35.6, VEEGAN 8 / 52.9; grid GAN 3.3 / 0.5, Unrolled
23.6 / 16, VEEGAN 24.6 / 40.

The quick presets cannot train the paper's networks for 25k steps on a
2-core CPU. They keep the setup's shape but shrink it: 2 x 32 tanh units, z
of dimension 16, batch 128, 2000 (quick) or 3000 (quick-grid) generator
steps, one data set each, and
equal rates lr_G = lr_D = 2e-3 with alternating steps (discriminator first)
for the Metz-recipe methods: at Metz's lr_D = lr_G / 10 (5e-4 / 5e-3,
simultaneous) every method stayed diffuse at std 0.02 in 3000 steps (HQ
share 0.3-1.4%, 0 covered modes, 4 seeds), and the quick lr_D / lr_G grid
(0.1, 1) shows the plain GAN at both. WGAN-GP keeps its own recipe. Their
numbers are for that setting, not the paper's; the `paper` preset runs
Metz's recipe with the grids lr_D / lr_G in (0.1, 0.3, 1, 3) and R1 gamma
in (0.1, 1, 10). `quick` trained 3000 steps until the first run's time
budget; every verdict is the same at 2000 (measured: the 3000-step
run's evaluation at step 2000, the same numbers as a 2000-step run): unrolled
covers 5.25 modes [-0.5, 11.0] (5.0 at 3000), minus the plain GAN's 8 (both),
consensus ends stationary with max Re(lambda) 0.086 [0.020, 0.152] (0.075),
R1 not stationary, WGAN-GP 0 modes, the plain GAN HQ 50% (62%).

Collapse search on this CPU (ring, std 0.02, the notebook's orthogonal x 1.4
init, Metz's Adam lr_D 1e-4 / lr_G 1e-3, beta1 0.5, simultaneous steps; 2
seeds each; covered modes / HQ share per seed at the end; ~6 CPU-minutes in
all). Collapse needs <= 2 covered modes AND HQ >= 0.5; no setting showed it:
- the notebook's networks (2 x 128 tanh, z 256, batch 512), ~55-80 steps/s
  for 2 seeds: gan 3000 steps 0, 7 / 0.10, 0.14; nsgan 3000 steps 0, 0 /
  0.04, 0.05; gan 8000 steps 8, 8 / 0.60, 0.41 (samples on every mode, 88-231
  HQ samples each of 2500): spreading, not collapsing;
- the quick networks (2 x 32, z 16, batch 128), ~2300 steps/s: 6000 steps gan
  0, 0 / 0.02, 0.01 and nsgan 0, 0 / 0.01, 0.02; 25k steps (the paper's count)
  gan 8, 4 / 0.52, 0.28 (the second seed's HQ mass on 4-5 modes) and nsgan 7, 8
  / 0.41, 0.52;
- the quick recipe (lr 2e-3 both, alternating) with the orthogonal init, 3000
  steps: gan 8, 8 / 0.78, 0.78; nsgan 8, 8 / 0.72, 0.62.
The notebook's 25k steps at its size take ~5-8 min a run here; the `paper`
preset (orthogonal x 1.4 by default) carries the collapse claim to a GPU. The
quick presets keep Xavier init, on which their numbers were measured.

Along training (at step 0 and every `eigen_every` steps, through the trainer's
`observe` hook: every evaluation in `paper`, only the end, which the claims
read, in the quick presets) the largest real part of the eigenvalues of the
Jacobian of each method's own vector field (Mescheder et al. 2017) is computed
matrix-free (ARPACK on Jacobian-vector products, compiled once per method) for
the first `eigen_seeds` seeds of the methods in `eigen_methods` (all in
`paper`; in the quick presets R1 and consensus, whose claims read them: each
tracked method costs a compiled Jacobian-vector product, the unrolled one the
largest, and ~100 products per point), on one fixed batch, beside the field's
norm ||v||. The sign says "locally attracting" or "not" only at a stationary point, taken as
||v|| <= `stationary_ratio` (0.05) x its value at step 0 for that seed;
elsewhere the reading is "not stationary" and the R1 / consensus claims are
inconclusive. (At 0.1, WGAN-GP would pass at ||v|| ~ 2: its gradient penalty
inflates ||v_0|| ~10x.)
"""

import dataclasses
from dataclasses import dataclass
from functools import partial
from typing import Callable, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from common import plots, stats
from common.config import (require_at_least_one, require_distinct, require_in_range, require_non_negative,
                           require_numbers_representable, require_positive)
from common.data.synthetic import grid_centers, ring_centers, sample_mixture
from common.experiment import Claim, Control, NotRunAtPreset, Results, above, at_least, below
from common.members import Members, with_hyperparams
from common.models import MLP
from common.parallel import map_independent
from common.train import FitResult, Loop, fit, init_states, new_state, seed_keys
from experiments.api import main
from research.gan.game import (
    FieldSpectrum,
    GanBatch,
    GanState,
    alternating_update,
    consensus_field,
    critic_steps_update,
    game_field,
    gan_losses,
    simultaneous_update,
    unrolled_g_loss,
)
from research.gan.losses import (LOSSES, GanLoss, gan_d_loss, gan_g_loss_nonsaturating, gan_g_loss_saturating,
                                r1_penalty, wgan_gp_penalty)
from research.gan.metrics import covered_modes, mode_coverage, mode_kl

NAME = "gan-mixture"
STUDY = "gan"
PAPER = ("Metz et al. 2016, Unrolled GANs; Srivastava et al. 2017, VEEGAN (Table 1); "
         "Gulrajani et al. 2017 (WGAN-GP); Mescheder et al. 2017/2018 (consensus, R1)")
REPRODUCES = ("modes covered and % high-quality samples on the 8-mode ring and 5x5 grid (std 0.02) against an "
              "untrained noise generator; VEEGAN: ring GAN 1 / 99.3, unrolled 7.6 / 35.6; grid GAN 3.3 / 0.5, "
              "unrolled 23.6 / 16")

METHODS = ("gan", "nsgan", "wgan-gp", "r1", "unrolled", "consensus")
DATASETS = ("ring", "grid")
MODE_COUNT = {"ring": 8, "grid": 25}
# VEEGAN Table 1: (modes captured, % high quality).
VEEGAN = {
    ("ring", "gan"): (1.0, 99.3), ("ring", "unrolled"): (7.6, 35.6),
    ("grid", "gan"): (3.3, 0.5), ("grid", "unrolled"): (23.6, 16.0),
}
DATA_TAG, EVAL_TAG, NOISE_TAG = 0x5EED, 0xE7A1, 0x0015E  # fold_in tags: batches, evaluation codes, noise baseline
COLLAPSE_MODES, COLLAPSE_HQ = 2, 0.5  # "few modes AND most samples high quality"


@dataclass(frozen=True)
class Config:
    """GANs on Gaussian mixtures: covered modes, HQ share and collapse, each method with its paper's recipe."""

    seeds: int = 5
    """Independent seeds per method, trained together in one vmapped program."""
    datasets: tuple[str, ...] = DATASETS
    """Subset of: ring grid."""
    methods: tuple[str, ...] = METHODS
    """Subset of: gan nsgan wgan-gp r1 unrolled consensus."""
    steps: int = 25_000
    """Generator steps (WGAN-GP: each after `critic_steps` critic steps)."""
    batch_size: int = 512
    """Examples per minibatch."""
    z_dim: int = 256
    hidden: int = 128
    """Units in each of the two tanh layers of both networks."""
    init: Literal["xavier", "orthogonal"] = "orthogonal"
    """Both networks' weights: orthogonal times `init_gain` (the unrolled-GAN notebook's
    tf.orthogonal_initializer(1.4)) or Xavier/Glorot normal; biases zero."""
    init_gain: float = 1.4
    lr_g: float = 1e-3
    """Metz's setup (all methods but WGAN-GP)."""
    lr_d: float = 1e-4
    beta1: float = 0.5
    update: Literal["simultaneous", "alternating"] = "simultaneous"
    """Metz's setup: simultaneous as in the unrolled-GAN notebook; alternating moves the discriminator first."""
    wgan_lr: float = 1e-4
    """WGAN-GP's Adam learning rate, both players (Gulrajani et al.)."""
    wgan_betas: tuple[float, float] = (0.0, 0.9)
    critic_steps: int = 5
    """WGAN-GP critic steps per generator step."""
    std: float = 0.02
    """Standard deviation of each mixture component (the paper's 0.02)."""
    unroll_steps: int = 5
    gp_weight: float = 10.0
    """WGAN-GP weight lambda (Gulrajani et al.), target norm 1."""
    r1_gamma: float = 1.0
    """R1 strength gamma (paper convention gamma/2 E||grad D||^2)."""
    consensus_gamma: float = 1.0
    eval_samples: int = 2500
    """Generated samples for the metrics (VEEGAN's 2500)."""
    min_count: int = 10
    """HQ samples a mode needs to count as covered (0.4% of 2500; noise puts ~0.6 per ring mode at std 0.02)."""
    hq_floor: float = 0.1
    """HQ share below which a generator covers no mode (a diffuse cloud)."""
    lr_ratios: tuple[float, ...] = ()
    """lr_D / lr_G values at which the plain GAN is also trained (the two-time-scale grid; lr_G fixed)."""
    r1_gammas: tuple[float, ...] = ()
    """R1 strengths at which R1 is also trained (a gamma sweep)."""
    eval_every: int = 2500
    chunk: int = 500
    """Steps per compiled lax.scan (the host sees metrics and may checkpoint once per chunk)."""
    blowup: float = 1e4
    """A seed whose parameter norm exceeds this counts as diverged (stopped, step recorded)."""
    eigen_seeds: int = 1
    """Seeds whose Jacobian's rightmost eigenvalue and ||v|| are tracked (at step 0 and every eigen_every steps)."""
    eigen_every: int = 0
    """Generator steps between the spectrum's points after step 0, a multiple of eval_every (the last step is
    always one); 0: at every evaluation."""
    eigen_methods: tuple[str, ...] = METHODS
    """Methods whose spectrum is tracked, of: gan nsgan wgan-gp r1 unrolled consensus (the R1 and consensus
    claims read theirs; a method that `methods` leaves out is not trained, so not tracked)."""
    eigen_batch: int = 512
    eigen_iterations: int = 100
    """ARPACK restarts at most (each ~20 Jacobian-vector products); NaN if it has not converged."""
    stationary_ratio: float = 0.05
    """A point counts as stationary when ||v|| <= this x ||v|| at step 0 (same seed, same batch): only
    there is the sign of max Re(lambda) read as locally attracting or not."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_distinct(self, ('datasets', 'methods', 'eigen_methods'))
        positive = ("seeds", "steps", "batch_size", "z_dim", "hidden", "eval_samples", "eval_every", "chunk",
                    "eigen_batch", "eigen_iterations", "unroll_steps", "critic_steps", "min_count")
        require_at_least_one(self, positive)
        require_positive(self, ("lr_g", "lr_d", "wgan_lr", "std", "blowup", "init_gain"))
        # at 1 or above every starting point would count as stationary
        require_in_range(self, ("stationary_ratio",), 0.0, 1.0, open_low=True, open_high=True)
        require_in_range(self, ("beta1",), 0.0, 1.0, open_high=True)
        require_in_range(self, ("wgan_betas",), 0.0, 1.0, open_high=True)
        require_non_negative(self, ("gp_weight", "r1_gamma", "consensus_gamma"))
        if self.eval_every % self.chunk:
            raise ValueError(f"eval_every ({self.eval_every}) must be a multiple of chunk ({self.chunk})")
        if self.eigen_every < 0 or self.eigen_every % self.eval_every:
            raise ValueError(f"eigen_every ({self.eigen_every}) must be 0 or a multiple of eval_every "
                             f"({self.eval_every})")
        if not 0 <= self.eigen_seeds <= self.seeds:
            raise ValueError(f"eigen_seeds must be in [0, seeds] (got {self.eigen_seeds})")
        if any(not v > 0 for v in self.lr_ratios + self.r1_gammas):
            raise ValueError(f"lr_ratios and r1_gammas must be positive (got {self.lr_ratios}, {self.r1_gammas})")
        if not 0 <= self.hq_floor <= 1:
            raise ValueError(f"hq_floor must be in [0, 1] (got {self.hq_floor})")
        for field, allowed in (("datasets", DATASETS), ("methods", METHODS), ("eigen_methods", METHODS)):
            values = getattr(self, field)
            if not values or any(v not in allowed for v in values):
                raise ValueError(f"{field} must be a non-empty subset of {' '.join(allowed)} (got {values})")

    def unused_fields(self) -> dict[str, str]:
        by_method = {"unroll_steps": "unrolled", "gp_weight": "wgan-gp", "wgan_lr": "wgan-gp",
                     "wgan_betas": "wgan-gp", "critic_steps": "wgan-gp", "r1_gamma": "r1",
                     "consensus_gamma": "consensus"}
        unused = {field: f"only the {method} method uses it and --methods leaves {method} out"
                  for field, method in by_method.items() if method not in self.methods}
        if self.eigen_seeds == 0:
            unused |= {field: "no eigenvalues are computed with --eigen-seeds 0"
                       for field in ("eigen_every", "eigen_methods", "eigen_batch", "eigen_iterations",
                                     "stationary_ratio")}
        if self.init != "orthogonal":
            unused["init_gain"] = "only the orthogonal init has a gain"
        return unused


SMALL = dict(batch_size=128, z_dim=16, hidden=32, init="xavier", lr_g=2e-3, lr_d=2e-3, update="alternating",
             eval_every=500, chunk=500, seeds=4, eigen_seeds=4, eigen_methods=("r1", "consensus"),
             lr_ratios=(0.1, 1.0), r1_gammas=(0.1, 10.0))
PRESETS = {
    "quick": Config(datasets=("ring",), steps=2000, eigen_every=2000, **SMALL),
    "quick-grid": Config(datasets=("grid",), steps=3000, eigen_every=3000, **SMALL),
    "paper": Config(eval_every=2500, chunk=500, eigen_seeds=5, lr_ratios=(0.1, 0.3, 1.0, 3.0),
                    r1_gammas=(0.1, 1.0, 10.0)),
}


def centers_of(dataset: str) -> jax.Array:
    return ring_centers(8, 2.0) if dataset == "ring" else grid_centers(5, 2.0)


class Recipe(NamedTuple):
    """How a method trains: its optimizers (each with its learning rate in its state), critic steps per generator
    step, update order, and its rates and game weights, which `Players.initializer` puts in the state: fits
    that differ only in these (the lr_D / lr_G and gamma grids; the GAN, NSGAN and R1) share one program."""

    g_opt: optax.GradientTransformation
    d_opt: optax.GradientTransformation
    critic_steps: int
    update: str  # "simultaneous", "alternating" or "critic" (critic_steps critic steps, then the generator)
    lr_g: float
    lr_d: float
    strength: float  # the method's penalty or regularizer weight (WGAN-GP lambda, R1 or consensus gamma), else 0
    saturating: float  # 1: the minimax generator loss, 0: the non-saturating one (read by the "gan" program)
    betas: tuple[float, float]  # both players' Adam betas
    describe: str


def adam(betas: tuple[float, float]) -> optax.GradientTransformation:
    """Adam whose learning rate is a traced value in its state (its betas are constants); its state's
    `inner_state` is the state of `optax.adam` at those betas."""
    return optax.inject_hyperparams(optax.adam, static_args=("b1", "b2", "eps", "eps_root"))(
        learning_rate=0.0, b1=betas[0], b2=betas[1])


STRENGTH = {"wgan-gp": "gp_weight", "r1": "r1_gamma", "consensus": "consensus_gamma"}  # the Config field of each
NON_SATURATING = ("nsgan", "r1")  # generator losses: these the non-saturating one, WGAN-GP its own, the rest minimax
# The compiled program each method trains with, named by one of its methods: the GAN, the non-saturating GAN
# and R1 are one game with traced weights (the generator loss's mix, R1's gamma), so their fits share it.
PROGRAM = {"gan": "gan", "nsgan": "gan", "r1": "gan", "wgan-gp": "wgan-gp", "unrolled": "unrolled",
           "consensus": "consensus"}


def recipe(method: str, config: Config) -> Recipe:
    strength = getattr(config, STRENGTH[method]) if method in STRENGTH else 0.0
    saturating = 0.0 if method in NON_SATURATING else 1.0
    if method == "wgan-gp":
        b1, b2 = betas = config.wgan_betas
        return Recipe(adam(betas), adam(betas), config.critic_steps, "critic", config.wgan_lr, config.wgan_lr,
                      strength, saturating, betas, f"{config.critic_steps} critic steps / generator step, Adam("
                      f"{config.wgan_lr:g}, betas ({b1:g}, {b2:g})) both, lambda {config.gp_weight:g} "
                      "(Gulrajani et al.)")
    extra = {"unrolled": f", {config.unroll_steps} unrolling steps", "r1": f", gamma {config.r1_gamma:g}",
             "consensus": f", gamma {config.consensus_gamma:g}"}.get(method, "")
    betas = (config.beta1, 0.999)
    return Recipe(adam(betas), adam(betas), 1, config.update, config.lr_g, config.lr_d, strength, saturating, betas,
                  f"{config.update}, Adam lr_G {config.lr_g:g} / lr_D {config.lr_d:g}, beta1 {config.beta1:g} "
                  f"(Metz et al.){extra}")


class Players:
    """The two networks for one config."""

    def __init__(self, config: Config):
        gain = config.init_gain if config.init == "orthogonal" else 1.0
        self.generator = MLP((config.hidden, config.hidden), 2, activation="tanh", init=config.init, gain=gain)
        self.discriminator = MLP((config.hidden, config.hidden), 1, activation="tanh", init=config.init, gain=gain)
        self.z_dim = config.z_dim

    def g_apply(self, params, z):
        return self.generator.apply(params, {}, z)[0]

    def d_apply(self, params, x):
        return self.discriminator.apply(params, {}, x)[0][:, 0]

    def initializer(self, recipe: Recipe):
        """init(key, member) of one seed: fresh networks, the member's rates (`rates_of`) in the optimizer
        states and its game's weights in `state.member` (where the step reads them)."""

        def init(key, member):
            key_g, key_d = jax.random.split(key)
            g = self.generator.init_variables(key_g, jnp.zeros((1, self.z_dim)))[0]
            d = self.discriminator.init_variables(key_d, jnp.zeros((1, 2)))[0]
            opt_state = {"g": with_hyperparams(recipe.g_opt.init(g), {"learning_rate": member["lr_g"]}),
                         "d": with_hyperparams(recipe.d_opt.init(d), {"learning_rate": member["lr_d"]})}
            weights = {name: member[name] for name in WEIGHTS}
            return new_state({"g": g, "d": d}, opt_state, key, member=weights)

        return init


WEIGHTS = ("strength", "saturating")  # a game's weights (see `method_game`)


def weights_of(recipe: Recipe) -> dict[str, float]:
    return {name: getattr(recipe, name) for name in WEIGHTS}


def rate_values(recipe: Recipe) -> dict[str, float]:
    return {"lr_g": recipe.lr_g, "lr_d": recipe.lr_d, **weights_of(recipe)}


def rates_of(recipe: Recipe) -> Members:
    """The recipe's rates and weights as the trainer's one sweep member: traced inputs of `init`, so that
    every fit starts from one compiled program whatever its rates."""
    values = rate_values(recipe)
    return Members({k: jnp.asarray([v], jnp.float32) for k, v in values.items()}, (values,))


def generator_mix(saturating) -> GanLoss:
    """The GAN's losses, the generator's being `saturating` x the minimax loss + (1 - saturating) x the
    non-saturating one: at 1 or 0 exactly the one or the other (the other term is a product with zero)."""

    def g_loss(d_fake):
        return saturating * gan_g_loss_saturating(d_fake) + (1 - saturating) * gan_g_loss_nonsaturating(d_fake)

    return GanLoss(gan_d_loss, g_loss)


def method_game(method: str, players: Players, d_opt, weights: dict, unroll_steps: int):
    """(g_loss, d_loss, make_field) of a method; make_field(d_opt_state) -> the field it steps along.
    `weights` (traced in training, see `WEIGHTS`): "strength", the method's penalty or regularizer weight,
    and "saturating", the generator loss's mix in the "gan" program (there the GAN and NSGAN are R1 at
    strength 0)."""
    d_apply, strength = players.d_apply, weights["strength"]
    penalty, loss = None, LOSSES["gan"]
    if method == "wgan-gp":
        loss = LOSSES["wgan"]

        def penalty(d, x_real, x_fake, key):
            return wgan_gp_penalty(d_apply, d, x_real, x_fake, key, weight=strength)
    elif PROGRAM[method] == "gan":
        loss = generator_mix(weights["saturating"])

        def penalty(d, x_real, x_fake, key):
            return r1_penalty(d_apply, d, x_real, strength)

    g_loss, d_loss = gan_losses(loss, players.g_apply, d_apply, penalty)

    def make_field(d_opt_state):
        if method == "unrolled":
            unrolled = unrolled_g_loss(g_loss, d_loss, d_opt, d_opt_state, unroll_steps)
            return game_field(unrolled, d_loss)
        if method == "consensus":
            return consensus_field(game_field(g_loss, d_loss), strength)
        return game_field(g_loss, d_loss)

    return g_loss, d_loss, make_field


def first(batch: GanBatch) -> GanBatch:
    return jax.tree.map(lambda a: a[0], batch)


def gan_step(method: str, config: Config, players: Players, recipe: Recipe):
    """The trainer's step(state, batch): one generator update (after its critic steps)."""

    def step(state, batches: GanBatch):
        g_loss, d_loss, make_field = method_game(method, players, recipe.d_opt, state.member, config.unroll_steps)
        gan = GanState(state.params["g"], state.params["d"], state.opt_state["g"], state.opt_state["d"])
        field, batch = make_field(gan.d_opt_state), first(batches)
        if recipe.update == "critic":
            new = critic_steps_update(field, recipe.g_opt, recipe.d_opt, gan, batches)
        elif recipe.update == "simultaneous":
            new = simultaneous_update(field, recipe.g_opt, recipe.d_opt, gan, batch)
        else:
            new = alternating_update(field, recipe.g_opt, recipe.d_opt, gan, batch, generator_first=False)
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


def batch_sampler(config: Config, critic_steps: int = 1):
    """Batches with a leading axis of `critic_steps` (a fresh batch for every critic step)."""

    def one(centers, key):
        key_x, key_z, key_penalty = jax.random.split(key, 3)
        return GanBatch(
            x_real=sample_mixture(key_x, centers, config.batch_size, config.std),
            z=jax.random.normal(key_z, (config.batch_size, config.z_dim)),
            key=key_penalty,
        )

    def sample(centers, key, step):
        keys = jax.random.split(jax.random.fold_in(jax.random.fold_in(key, DATA_TAG), step), critic_steps)
        return jax.vmap(lambda k: one(centers, k))(keys)

    return sample


def generated(config: Config, players: Players, state):
    """The evaluation samples of one seed: fixed codes drawn from the seed's key."""
    z = jax.random.normal(jax.random.fold_in(state.key, EVAL_TAG), (config.eval_samples, config.z_dim))
    return players.g_apply(state.params["g"], z)


def sample_metrics(samples, centers, config: Config) -> dict:
    """Every mode metric of one set of samples (jittable)."""
    metrics = mode_coverage(samples, centers, config.std)
    hits = metrics["hits_per_mode"]
    return {
        "modes": metrics["modes_captured"].astype(jnp.float32),
        "high_quality": metrics["high_quality"],
        "covered": covered_modes(hits, metrics["high_quality"], config.min_count, config.hq_floor).astype(
            jnp.float32),
        "kl": mode_kl(hits),
        "hits": hits,
    }


def evaluation(config: Config, players: Players):
    def evaluate(state, centers):
        return sample_metrics(generated(config, players, state), centers, config)

    return evaluate


@partial(jax.jit, static_argnums=0)
def references(config: Config, centers) -> dict[str, dict]:
    """The controls measured at run time, one set of samples per seed, scored like the methods (one program):
    an untrained N(0, I) generator ("noise") and the data itself ("data")."""
    draw = {"noise": lambda key: jax.random.normal(key, (config.eval_samples, 2)),
            "data": lambda key: sample_mixture(key, centers, config.eval_samples, config.std)}
    keys = jax.random.split(jax.random.fold_in(jax.random.key(config.seed), NOISE_TAG), config.seeds)
    return {kind: jax.vmap(lambda key: sample_metrics(sample(key), centers, config))(keys)
            for kind, sample in draw.items()}


def reference_samples(config: Config, centers, kind: str) -> dict:
    """One control's metrics (see `references`), per seed, on the host."""
    return {k: np.asarray(v) for k, v in references(config, centers)[kind].items()}


class Shared(NamedTuple):
    """What every fit of one program (`PROGRAM`) shares: its step and batch sampler (so that its fits, main
    runs and grid points, compile one chunk program), and, the same for all, the evaluation, the final
    samples and the batch the spectra are computed on."""

    step: Callable
    sample_batch: Callable
    evaluate: Callable
    samples: Callable  # jitted: states (runs leading) -> (runs, eval_samples, 2)
    spectrum_batch: GanBatch | None  # None without tracked seeds


class SpectrumProbe:
    """Max Re(lambda) of the Jacobian of a method's own field and ||v||, at one seed's state, on one
    fixed batch (compiled once per method: the points of a trajectory differ only in value)."""

    def __init__(self, method: str, config: Config, players: Players, recipe: Recipe, batch: GanBatch):
        # The recipe's discriminator rate and weights enter as constants, as in the program the numbers in
        # the docstring came from (traced, the unrolled field compiles differently: its eigenvalues move in
        # the 6th digit); aux: the discriminator's plain Adam state, which unrolling reads.
        d_opt = optax.adam(recipe.lr_d, b1=recipe.betas[0], b2=recipe.betas[1])
        _, _, make_field = method_game(method, players, d_opt, weights_of(recipe), config.unroll_steps)
        self.spectrum = FieldSpectrum(make_field)
        self.batch = batch
        self.config = config

    def point(self, g_params, d_params, d_adam_state) -> tuple[float, float]:
        """(max Re lambda, ||v||) at one seed's point; max Re lambda NaN where ARPACK has not converged."""
        args = (g_params, d_params, d_adam_state, self.batch)
        values = self.spectrum.rightmost(*args, k=1, tol=1e-2, maxiter=self.config.eigen_iterations)
        return (float(values.real.max()) if values.size else float("nan")), self.spectrum.norm(*args)

    def seeds(self, states) -> dict[str, np.ndarray]:
        """Both at the first `eigen_seeds` runs of `states` (leading runs axis), NaN for the others and
        off the schedule (`on_schedule`): the trainer's `observe` hook at every evaluation."""
        steps = np.asarray(states.step)
        eigen, norm = np.full(steps.shape[0], np.nan), np.full(steps.shape[0], np.nan)
        if on_schedule(self.config, int(steps[0])):
            # one seed's point sliced on the host (slicing device arrays compiles a program per leaf shape)
            points = jax.tree.map(np.asarray, (states.params["g"], states.params["d"],
                                               states.opt_state["d"].inner_state))
            for i in range(min(self.config.eigen_seeds, steps.shape[0])):
                eigen[i], norm[i] = self.point(*jax.tree.map(lambda a: a[i], points))
        return {"max_real_eigen": eigen, "field_norm": norm}


def on_schedule(config: Config, step: int) -> bool:
    """Whether the spectrum is computed at `step`: step 0, the last step and every `eigen_every` steps
    (every evaluation at 0)."""
    return step in (0, config.steps) or config.eigen_every == 0 or step % config.eigen_every == 0


def spectrum_batch(config: Config, centers) -> GanBatch:
    """The one batch (of `eigen_batch`) on which every method's spectrum is computed. Drawn op by op, as
    when the numbers in the docstrings were measured: under jit its normal draws differ in the last bit."""
    config = dataclasses.replace(config, batch_size=config.eigen_batch)
    return first(batch_sampler(config)(centers, jax.random.fold_in(jax.random.key(config.seed), EVAL_TAG), 0))


def stationary(field_norm_TxS: np.ndarray, ratio: float) -> np.ndarray:
    """Points whose ||v|| is at most `ratio` x its value at step 0 (row 0), per seed."""
    return field_norm_TxS <= ratio * field_norm_TxS[:1]


def reading(max_real_eigen: float, is_stationary: bool) -> str:
    """What the rightmost eigenvalue says at a point: only at a stationary point is its sign a verdict."""
    if not is_stationary:
        return "not stationary"
    if not np.isfinite(max_real_eigen):
        return "no eigenvalue"
    return "not locally attracting" if max_real_eigen > 0 else "locally attracting"


def interval_text(samples, scale: float = 1.0) -> str:
    m = stats.mean(np.asarray(samples) * scale)
    lo, hi = m.interval
    return f"{m.value:.2f} [{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) else f"{m.value:.2f}"


METRICS = ("modes", "high_quality", "covered", "kl", "hits")
EIGEN_COLUMN = "end: max Re eig, norm(v) / norm(v_0)"  # no pipes: a table cell


class Fit(NamedTuple):
    """One training: its name (checkpoints, log lines), method, recipe, and whether its spectrum is tracked."""

    name: str
    method: str
    recipe: Recipe
    tracked: bool


class GridPoint(NamedTuple):
    """A point of the lr_D / lr_G or gamma grid: the method, the axis, its tag in array keys, the value, the recipe."""

    method: str
    axis: str
    tag: str
    value: float
    recipe: Recipe


class Trained(NamedTuple):
    """What a fit gives the report: the trainer's result, the final samples (runs, eval_samples, 2) and,
    when tracked, the spectrum at step 0 of the tracked seeds."""

    out: FitResult
    samples: np.ndarray
    at_start: dict | None


SLOWEST_FIRST = ("unrolled", "consensus", "gan", "wgan-gp")  # the order threads take programs in (quick: ~balanced)


def train(job: Fit, config: Config, players: Players, shared: Shared, centers, session) -> Trained:
    """Every seed of one fit, its recipe's rates and weights; when tracked, its eigenvalue and ||v|| at
    step 0 and on the schedule too (eval/max_real_eigen, eval/field_norm, NaN off the schedule)."""
    probe = SpectrumProbe(job.method, config, players, job.recipe, shared.spectrum_batch) if job.tracked else None
    loop = Loop(steps=config.steps, chunk=config.chunk, eval_every=config.eval_every, checkpoint_every=None)
    out = fit(
        job.name, init=players.initializer(job.recipe), step=shared.step, sample_batch=shared.sample_batch,
        data=centers, loop=loop, keys=seed_keys(config.seed, config.seeds), members=rates_of(job.recipe),
        evaluate=shared.evaluate, eval_data=centers, session=session,
        observe=None if probe is None else (lambda states, _: probe.seeds(states)),
    )
    at_start = None
    if probe is not None:
        # the trainer's own initial states (same program, same numbers) of the tracked seeds
        keys, inputs = seed_keys(config.seed, config.eigen_seeds), rates_of(job.recipe).for_runs(config.eigen_seeds)
        at_start = probe.seeds(init_states(players.initializer(job.recipe), keys, "seeds", inputs))
    return Trained(out, np.asarray(shared.samples(out.state)), at_start)


def grid_points(config: Config) -> list[GridPoint]:
    """The plain GAN against lr_D / lr_G and R1 against gamma, each at the config's other values."""
    gan, r1 = recipe("gan", config), recipe("r1", config)
    return ([GridPoint("gan", "lr_D / lr_G", "ratio", ratio, gan._replace(lr_d=config.lr_g * ratio))
             for ratio in config.lr_ratios]
            + [GridPoint("r1", "R1 gamma", "gamma", gamma, r1._replace(strength=gamma)) for gamma in config.r1_gammas])


def same_run(a: Recipe, b: Recipe) -> bool:
    """Same rates and weights: with the same step and keys, the same numbers."""
    return rate_values(a) == rate_values(b)


def fits_of(config: Config, dataset: str) -> dict[str, list[Fit]]:
    """The fits on `dataset` of each program (`PROGRAM`): each method's main run (tracked when eigen_seeds > 0
    and the method is in eigen_methods), then the grid points (one equal to its main run is that run, not
    trained twice)."""
    fits = [Fit(f"{dataset}-{method}", method, recipe(method, config),
                config.eigen_seeds > 0 and method in config.eigen_methods) for method in config.methods]
    for point in grid_points(config):
        if point.method not in config.methods or not same_run(point.recipe, recipe(point.method, config)):
            fits.append(Fit(f"{dataset}-{point.method}-{point.tag}{point.value:g}", point.method, point.recipe, False))
    jobs = {}
    for job in fits:
        jobs.setdefault(PROGRAM[job.method], []).append(job)
    return jobs


def train_all(config: Config, players: Players, dataset: str, centers, session) -> dict[str, Trained]:
    """Every fit on `dataset` by name: one thread per program at a time, slowest first (each program's fits
    compile one chunk program; two threads compile side by side)."""
    evaluate, samples = evaluation(config, players), jax.jit(jax.vmap(partial(generated, config, players)))
    jobs = fits_of(config, dataset)
    batch = spectrum_batch(config, centers) if any(job.tracked for fits in jobs.values() for job in fits) else None
    order = sorted(jobs, key=SLOWEST_FIRST.index)
    if jax.config.jax_enable_compilation_cache and jax.config.jax_compilation_cache_dir:
        # Every fit's initial states come from one program (the rates are its inputs): compiled here, the
        # threads find it in the persistent cache instead of both compiling it at once.
        first_fit = jobs[order[0]][0]
        init_states(players.initializer(first_fit.recipe), seed_keys(config.seed, config.seeds), "seeds",
                    rates_of(first_fit.recipe).for_runs(config.seeds))

    def train_program(program: str) -> list[Trained]:
        program_recipe = recipe(program, config)
        shared = Shared(gan_step(program, config, players, program_recipe),
                        batch_sampler(config, program_recipe.critic_steps), evaluate, samples, batch)
        return [train(job, config, players, shared, centers, session) for job in jobs[program]]

    done = map_independent(train_program, order)
    return {job.name: trained for program, outs in zip(order, done) for job, trained in zip(jobs[program], outs)}


def sweeps(config: Config, dataset: str, trained: dict[str, Trained], results: Results) -> None:
    """The grids' final covered modes, HQ share and KL."""
    rows = []
    for point in grid_points(config):
        name = f"{dataset}-{point.method}-{point.tag}{point.value:g}"
        out = trained[name if name in trained else f"{dataset}-{point.method}"].out
        key = f"{dataset}/sweep/{point.tag}/{point.value:g}"
        for metric in ("covered", "high_quality", "kl"):
            results.arrays[f"{key}/{metric}"] = out.curve(f"eval/{metric}")[-1:]  # (1, seeds)
        rows.append({"method": point.method, "swept": point.axis, "value": point.value,
                     "covered modes (95%)": interval_text(results.arrays[f"{key}/covered"][-1]),
                     "% HQ": interval_text(results.arrays[f"{key}/high_quality"][-1], 100),
                     "KL to uniform": interval_text(results.arrays[f"{key}/kl"][-1])})
    if rows:
        results.tables[f"{dataset}: sweeps (lr_G {config.lr_g:g}; final values, mean [95% t] over seeds)"] = rows


def verdict_notes(config: Config, dataset: str, a: dict) -> list[str]:
    """Why a claim may not hold here, with the run's numbers."""

    def final_text(key: str) -> str:
        return (f"covered {np.nanmean(a[f'{key}/covered'][-1]):.2f} modes (per seed "
                f"{', '.join(f'{c:.0f}' for c in a[f'{key}/covered'][-1])}), HQ "
                f"{100 * np.nanmean(a[f'{key}/high_quality'][-1]):.1f}%")

    notes = []
    if f"{dataset}/gan/covered" in a:
        sweep = "; ".join(f"lr_D / lr_G {r:g}: {final_text(f'{dataset}/sweep/ratio/{r:g}')}"
                          for r in config.lr_ratios)
        notes.append(f"{dataset} collapse: the plain GAN ends with {final_text(f'{dataset}/gan')}: spread, not "
                     f"collapsed (collapse needs <= 2 modes AND >= 50% HQ). {sweep}. No setting tried on the CPU "
                     "showed collapse (a diffuse cloud at a slow discriminator, all modes at equal rates; with "
                     "the notebook's orthogonal init, z 256 and rates, 8000 steps: 8 modes, HQ 41-60%; the "
                     "module docstring lists the search); the `paper` preset carries the claim to a GPU.")
    if f"{dataset}/wgan-gp/covered" in a:
        notes.append(f"{dataset} WGAN-GP ({config.critic_steps} critic steps, Adam({config.wgan_lr:g}, betas "
                     f"{config.wgan_betas})): {final_text(f'{dataset}/wgan-gp')} after {config.steps} generator "
                     "steps: its samples have not concentrated within 3 std (Gulrajani et al.'s 2-D script runs "
                     "100k iterations); with lr 1e-3 in a 2-seed trial, HQ 0.4-0.6%.")
    if f"{dataset}/unrolled/covered" in a:
        end = a[f"{dataset}/unrolled/covered"][-1]
        notes.append(f"{dataset} unrolled: {final_text(f'{dataset}/unrolled')}: its seeds end between "
                     f"{np.nanmin(end):.0f} and {np.nanmax(end):.0f} covered modes after {config.steps} steps.")
    return notes


def eigen_notes(config: Config, dataset: str, methods, a: dict) -> list[str]:
    """Each method's trajectory in numbers: max Re(lambda) and ||v|| / ||v_0|| from step 0 to the end."""
    parts = []
    for method in methods:
        key = f"{dataset}/{method}"
        if f"{key}/field_norm" not in a:
            continue
        eigen, norm = a[f"{key}/max_real_eigen"], a[f"{key}/field_norm"]
        relative = norm / norm[:1]
        at_rest = stationary(norm, config.stationary_ratio)
        parts.append(f"{method}: max Re(lambda) {np.nanmean(eigen[0]):.3g} at step 0 -> {np.nanmean(eigen[-1]):.3g} "
                     f"at the end (seeds {', '.join(f'{e:.3g}' for e in eigen[-1])}), ||v|| / ||v_0|| smallest "
                     f"{np.nanmin(relative[1:]):.2g}, at the end {np.nanmean(relative[-1]):.2g}; "
                     f"{int(at_rest[1:].sum())} of {at_rest[1:].size} tracked points stationary")
    if not parts:
        return []
    return [f"{dataset} eigenvalue trajectories (mean over {config.eigen_seeds} tracked seeds; stationary: ||v|| <= "
            f"{config.stationary_ratio:g} ||v_0||): " + "; ".join(parts) + "."]


def run(config: Config, session) -> Results:
    results = Results()
    players = Players(config)
    rows, recipe_rows = [], []
    for method in config.methods:
        recipe_rows.append({"method": method, "recipe": recipe(method, config).describe})
    for dataset in config.datasets:
        centers = centers_of(dataset)
        for kind in ("noise", "data"):
            for metric, values in reference_samples(config, centers, kind).items():
                results.arrays[f"{dataset}/{kind}/{metric}"] = values[None]  # (1 evaluation, seeds[, modes])
            rows.append({"data": dataset, "method": f"({'untrained N(0, I) generator' if kind == 'noise' else 'the data'})",
                         "covered modes (95%)": interval_text(results.arrays[f"{dataset}/{kind}/covered"][-1]),
                         "VEEGAN modes": interval_text(results.arrays[f"{dataset}/{kind}/modes"][-1]),
                         "% HQ": interval_text(results.arrays[f"{dataset}/{kind}/high_quality"][-1], 100),
                         "KL to uniform": interval_text(results.arrays[f"{dataset}/{kind}/kl"][-1]),
                         "collapsed seeds": "", "VEEGAN modes / %HQ": "", "diverged (step)": "",
                         EIGEN_COLUMN: "", "steps/s": ""})
        trained = train_all(config, players, dataset, centers, session)
        for method in config.methods:
            key = f"{dataset}/{method}"
            out, samples, at_start = trained[f"{dataset}-{method}"]
            for metric in METRICS:
                results.arrays[f"{key}/{metric}"] = out.curve(f"eval/{metric}")  # (evaluations, seeds[, modes])
            results.arrays[f"{key}/eval_step"] = np.asarray(out.history["eval_step"])
            results.arrays[f"{key}/samples"] = samples[0]
            results.arrays[f"{key}/diverged_at"] = out.diverged_at
            a = results.arrays
            readings = "not tracked" if config.eigen_seeds else ""
            if at_start is not None:
                scheduled = np.array([on_schedule(config, int(step)) for step in a[f"{key}/eval_step"]])
                a[f"{key}/eigen_step"] = np.concatenate([[0], a[f"{key}/eval_step"][scheduled]])
                for name in ("max_real_eigen", "field_norm"):  # (1 + scheduled evaluations, eigen_seeds)
                    a[f"{key}/{name}"] = np.concatenate(
                        [at_start[name][None], out.curve(f"eval/{name}")[scheduled, :config.eigen_seeds]])
                at_rest = stationary(a[f"{key}/field_norm"], config.stationary_ratio)
                readings = "; ".join(
                    f"{e:.3g}, {n / n0:.2g}: {reading(e, rest)}" for e, n, n0, rest in zip(
                        a[f"{key}/max_real_eigen"][-1], a[f"{key}/field_norm"][-1], a[f"{key}/field_norm"][0],
                        at_rest[-1]))
            veegan = VEEGAN.get((dataset, method))
            collapsed = (a[f"{key}/covered"][-1] <= COLLAPSE_MODES) & (a[f"{key}/high_quality"][-1] >= COLLAPSE_HQ)
            rows.append({
                "data": dataset, "method": method,
                "covered modes (95%)": interval_text(a[f"{key}/covered"][-1]),
                "VEEGAN modes": interval_text(a[f"{key}/modes"][-1]),
                "% HQ": interval_text(a[f"{key}/high_quality"][-1], 100),
                "KL to uniform": interval_text(a[f"{key}/kl"][-1]),
                "collapsed seeds": f"{int(collapsed.sum())} / {config.seeds}",
                "VEEGAN modes / %HQ": f"{veegan[0]} / {veegan[1]}" if veegan else "",
                "diverged (step)": ", ".join(str(s) for s in out.diverged_at if s >= 0) or "none",
                EIGEN_COLUMN: readings,
                "steps/s": out.steps_per_second,
            })
            covered = np.nanmean(a[f"{key}/covered"], axis=1)
            results.notes.append(
                f"{dataset} {method}: covered modes (mean over seeds) at each evaluation: "
                + " ".join(f"{c:.1f}" for c in covered) + "; HQ share at the end "
                f"{100 * np.nanmean(a[f'{key}/high_quality'][-1]):.1f}%.")
        results.arrays[f"{dataset}/centers"] = np.asarray(centers)
        results.arrays["stationary_ratio"] = np.asarray(config.stationary_ratio)
        sweeps(config, dataset, trained, results)
        results.notes += verdict_notes(config, dataset, results.arrays)
        results.notes += eigen_notes(config, dataset, config.methods, results.arrays)
    results.tables["Each method's recipe"] = recipe_rows
    results.tables[f"Modes and high-quality samples after {config.steps} steps (mean [95% t interval] over "
                   f"{config.seeds} seeds, {config.eval_samples} samples, std {config.std})"] = rows
    results.notes += [
        f"Covered modes: modes with >= {config.min_count} high-quality samples (within 3 std), counted only when "
        f"the HQ share is >= {config.hq_floor:g}; VEEGAN modes: >= 1 HQ sample, no floor (VEEGAN's own count). "
        "Collapsed: covered <= 2 AND HQ share >= 0.5 (few modes, most samples good).",
        f"{EIGEN_COLUMN}: per tracked seed, the largest real part of the eigenvalues of the Jacobian of the "
        f"method's own update field (ARPACK to tol 1e-2, one fixed batch of {config.eigen_batch}) and the field's "
        "norm ||v|| over its value at step 0. The sign is read only at a stationary point, "
        f"||v|| <= {config.stationary_ratio:g} x its value at step 0: elsewhere a positive real part says where "
        "the field turns, not that the point repels (figure eigen_trajectories: both at step 0 and every "
        f"{config.eigen_every or config.eval_every} steps).",
        f"Setting: hidden {config.hidden}, z {config.z_dim}, batch {config.batch_size}, std {config.std}, "
        f"{config.steps} generator steps.",
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
            key = f"{dataset}/{method}"
            samples = results.arrays[f"{key}/samples"]
            ax.scatter(samples[:, 0], samples[:, 1], s=1, alpha=0.3, color="C0", rasterized=True)
            ax.scatter(centers[:, 0], centers[:, 1], s=12, marker="x", color="C3")
            ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xticks=[], yticks=[],
                   title=f"{dataset}: {method} (seed 0)\ncovered {results.arrays[f'{key}/covered'][-1, 0]:.0f}, "
                         f"HQ {100 * results.arrays[f'{key}/high_quality'][-1, 0]:.0f}%")
            ax.set_aspect("equal")
    plots.save(fig, directory, "samples", **{k: v for k, v in results.arrays.items()
                                              if k.endswith(("samples", "centers"))})

    fig, axes = plots.new_figure(3, len(datasets), width=3.6, height=3.0)
    for row, dataset in enumerate(datasets):
        for ax, metric, label in zip(axes[row], ("covered", "high_quality", "kl"),
                                     ("covered modes", "high-quality share", "KL(modes || uniform) [nats]")):
            for method in methods:
                key = f"{dataset}/{method}"
                plots.seed_band(ax, results.arrays[f"{key}/eval_step"], results.arrays[f"{key}/{metric}"], method)
            noise = np.nanmean(results.arrays[f"{dataset}/noise/{metric}"])
            ax.axhline(noise, color="k", ls=":", lw=0.8, label="N(0, I) noise")
            ax.set(xlabel="generator step", ylabel=label, title=dataset)
        axes[row, 0].legend(loc="best", ncol=2, fontsize=6)
    plots.save(fig, directory, "modes_over_training", **{k: v for k, v in results.arrays.items()
                                                          if k.endswith(("covered", "high_quality", "kl",
                                                                         "eval_step"))})

    fig, axes = plots.new_figure(len(methods), len(datasets), width=2.8, height=2.6)
    for row, dataset in enumerate(datasets):
        for ax, method in zip(axes[row], methods):
            key = f"{dataset}/{method}"
            share = results.arrays[f"{key}/hits"][:, 0, :] / results.arrays[f"{key}/samples"].shape[0]
            ax.stackplot(results.arrays[f"{key}/eval_step"], share.T, linewidth=0)
            ax.set(ylim=(0, 1), xlabel="generator step", ylabel="share of samples (HQ, by mode)",
                   title=f"{dataset}: {method}, seed 0")
    plots.save(fig, directory, "mass_per_mode", **{k: v for k, v in results.arrays.items()
                                                    if k.endswith(("hits", "eval_step"))})

    tracked = [(d, m) for d in datasets for m in methods if f"{d}/{m}/field_norm" in results.arrays]
    if tracked:
        eigen_figure(results, directory, datasets, methods)



def eigen_figure(results: Results, directory, datasets, methods) -> None:
    """Max Re(lambda) and ||v|| against step per method, one line per tracked seed; filled markers where
    the point is stationary (||v|| <= ratio x ||v_0||), the only points whose sign is a verdict."""
    a = results.arrays
    ratio = float(a["stationary_ratio"])
    fig, axes = plots.new_figure(3, len(datasets), width=3.8, height=3.0)
    for row, dataset in enumerate(datasets):
        ax_eig, ax_norm, ax_rel = axes[row]
        for index, method in enumerate(m for m in methods if f"{dataset}/{m}/field_norm" in a):
            key, color = f"{dataset}/{method}", f"C{index}"
            steps, eigen, norm = a[f"{key}/eigen_step"], a[f"{key}/max_real_eigen"], a[f"{key}/field_norm"]
            at_rest = stationary(norm, ratio)
            for seed in range(norm.shape[1]):
                label = method if seed == 0 else None
                ax_eig.plot(steps, eigen[:, seed], color=color, lw=0.9, alpha=0.8, label=label)
                ax_eig.scatter(steps, eigen[:, seed], s=14, zorder=3,
                               facecolors=np.where(at_rest[:, seed], color, "none"), edgecolors=color, lw=0.8)
                ax_norm.plot(steps, norm[:, seed], color=color, lw=0.9, alpha=0.8, marker=".", label=label)
                ax_rel.plot(steps, norm[:, seed] / norm[0, seed], color=color, lw=0.9, alpha=0.8, marker=".",
                            label=label)
        ax_eig.axhline(0.0, color="k", lw=0.6)
        # symlog: the sign near 0 stays readable beside WGAN-GP's penalty-driven ~100 at step 0
        ax_eig.set(xlabel="generator step", ylabel="max Re(lambda) of the Jacobian (symlog)",
                   title=f"{dataset}: rightmost eigenvalue (filled: stationary)")
        ax_eig.set_yscale("symlog", linthresh=0.1)
        ax_norm.set(yscale="log", xlabel="generator step", ylabel="||v|| (fixed batch)", title=f"{dataset}: ||v||")
        ax_rel.axhline(ratio, color="k", ls="--", lw=0.8, label=f"stationary: <= {ratio:g}")
        ax_rel.set(yscale="log", xlabel="generator step", ylabel="||v|| / ||v at step 0||",
                   title=f"{dataset}: ||v|| relative to its start")
        ax_eig.legend(loc="best", fontsize=6, ncol=2)
        ax_rel.legend(loc="best", fontsize=6)
    plots.save(fig, directory, "eigen_trajectories", **{k: v for k, v in a.items() if k.endswith(
        ("eigen_step", "max_real_eigen", "field_norm", "stationary_ratio"))})

# --- claims: measures, and the cases the contract test runs them on ---


def final(r: Results, key: str, metric: str) -> np.ndarray:
    return r.arrays[f"{key}/{metric}"][-1]


def covered(key: str):
    return lambda r: stats.mean(final(r, key, "covered"))


def more_covered(better: str, worse: str):
    return lambda r: stats.paired_difference(final(r, better, "covered"), final(r, worse, "covered"))


def collapse_margin(key: str, modes: int):
    """min((2 - covered) / M, HQ share - 0.5), each a mean over seeds: >= 0 is collapse (both hold)."""

    def measure(r: Results) -> stats.Measurement:
        few = stats.mean((COLLAPSE_MODES - final(r, key, "covered")) / modes)
        good = stats.mean(final(r, key, "high_quality") - COLLAPSE_HQ)
        return stats.smallest(few, good)

    return measure


def seeds_of(values: dict[str, float], spread: float = 0.5, seeds: int = 5) -> Results:
    """Per-seed finals: `values` maps "<dataset>/<method>/<metric>" to a mean."""
    offsets = np.linspace(-1, 1, seeds)
    scale = {"covered": spread, "high_quality": 0.02}
    return Results(arrays={k: np.array([v + scale[k.rsplit("/", 1)[1]] * offsets]) for k, v in values.items()})


def noise_generator(dataset: str, method: str) -> Callable:
    """The control: an untrained N(0, I) generator in the method's place, scored at std 0.02 (its finals)."""

    def results() -> Results:
        config = PRESETS["quick"]
        measured = reference_samples(config, centers_of(dataset), "noise")
        return Results(arrays={f"{dataset}/{method}/{m}": measured[m][None] for m in ("covered", "high_quality")})

    return results


def the_data(dataset: str, method: str) -> Callable:
    """The control for collapse: the data itself (every mode, nearly all samples high quality)."""

    def results() -> Results:
        measured = reference_samples(PRESETS["quick"], centers_of(dataset), "data")
        return Results(arrays={f"{dataset}/{method}/{m}": measured[m][None] for m in ("covered", "high_quality")})

    return results


def aa(dataset: str, method: str) -> Callable:
    """The A/A control: the compared method is the better one itself."""
    return lambda: seeds_of({f"{dataset}/{method}/covered": 7.0, f"{dataset}/gan/covered": 7.0})


def baseline(dataset: str, kind: str, measure_for):
    """A claim's measure applied to the run's own control samples (noise or data) in the method's place."""

    def measure(r: Results):
        swapped = Results(arrays={f"{dataset}/{name}/{m}": r.arrays[f"{dataset}/{kind}/{m}"]
                                  for name in METHODS for m in ("covered", "high_quality")})
        return measure_for(swapped)

    return measure


def trained(dataset: str, methods: tuple[str, ...], measure, *, arrays: tuple[str, ...] = ("covered",)):
    """`measure`, not run where the config left `dataset` or one of `methods` out (or, with
    `arrays`, did not record them, e.g. eigenvalues at eigen_seeds 0): the preset that runs it is named."""
    preset = "quick-grid" if dataset == "grid" else "quick"

    def guarded(r: Results):
        absent = [m for m in methods if any(f"{dataset}/{m}/{name}" not in r.arrays for name in arrays)]
        if absent:
            raise NotRunAtPreset(preset, f"this run has no {', '.join(absent)} {'/'.join(arrays)} on the {dataset}")
        return measure(r)

    return guarded


def covers_at_least(dataset: str, method: str, threshold: float, paper: str) -> Claim:
    key, total = f"{dataset}/{method}", MODE_COUNT[dataset]
    return Claim(
        statement=f"{dataset}: {method} covers >= {threshold:g} of {total} modes (>= min_count HQ samples each, HQ share "
        f">= floor; mean over seeds)",
        paper=paper,
        measure=trained(dataset, (method,), covered(key)),
        region=at_least(threshold),
        control=Control(name="untrained N(0, I) generator", results=noise_generator(dataset, method)),
        passing=lambda: seeds_of({f"{key}/covered": threshold + 1}),
        baseline=baseline(dataset, "noise", covered(key)),
        fmt="{:.2f}",
    )


def beats_plain(dataset: str, paper: str) -> Claim:
    return Claim(
        statement=f"{dataset}: unrolled covers more modes than the plain GAN (paired difference over seeds)",
        paper=paper,
        measure=trained(dataset, ("unrolled", "gan"), more_covered(f"{dataset}/unrolled", f"{dataset}/gan")),
        region=above(0.0),
        control=Control(name="the unrolled GAN against itself (A/A)", results=aa(dataset, "unrolled")),
        passing=lambda: seeds_of({f"{dataset}/unrolled/covered": 7.0, f"{dataset}/gan/covered": 1.0}),
        fmt="{:+.2f}",
    )


def plain_collapses(dataset: str, paper: str) -> Claim:
    key, total = f"{dataset}/gan", MODE_COUNT[dataset]
    return Claim(
        statement=f"{dataset}: the plain GAN collapses: covers <= {COLLAPSE_MODES} modes AND >= {COLLAPSE_HQ:.0%} of its "
        f"samples are high quality (min of (2 - covered) / {total} and HQ - 0.5, >= 0)",
        paper=paper,
        measure=trained(dataset, ("gan",), collapse_margin(key, total)),
        region=at_least(0.0),
        control=Control(name="the data itself (all modes, ~100% HQ)", results=the_data(dataset, "gan")),
        passing=lambda: seeds_of({f"{key}/covered": 1.0, f"{key}/high_quality": 0.95}),
        baseline=baseline(dataset, "data", collapse_margin(key, total)),
        fmt="{:+.3f}",
    )


def end_eigen_at_rest(key: str):
    """Mean over the tracked seeds that END at a stationary point (||v|| <= ratio x ||v_0||) of max
    Re(lambda) there; not measured (inconclusive) when no seed does: away from a stationary point the
    sign of an eigenvalue is no verdict on attraction."""

    def measure(r: Results) -> stats.Measurement:
        eigen, norm = r.arrays[f"{key}/max_real_eigen"], r.arrays[f"{key}/field_norm"]
        ratio = float(r.arrays["stationary_ratio"])
        at_rest = stationary(norm, ratio)[-1]
        if not at_rest.any():
            return stats.Measurement(
                float("nan"),
                stats.WHOLE_LINE,
                f"no tracked seed ends at a stationary point "
                f"(norm(v) / norm(v_0) = {', '.join(f'{x:.2g}' for x in norm[-1] / norm[0])} > "
                f"{ratio:g}): not read",
                0,
            )
        m = stats.mean(eigen[-1][at_rest])
        return dataclasses.replace(
            m, how=f"{m.how}; {int(at_rest.sum())} of {at_rest.size} tracked seeds end stationary"
        )

    return measure


def eigen_trajectory(key: str, eigen_TxS, norm_TxS, ratio: float = 0.05) -> Results:
    """Results holding one method's tracked eigenvalue and ||v|| trajectories (points x seeds)."""
    return Results(
        arrays={
            f"{key}/max_real_eigen": np.asarray(eigen_TxS, float),
            f"{key}/field_norm": np.asarray(norm_TxS, float),
            "stationary_ratio": np.asarray(ratio),
        }
    )


def attracting_at_end(dataset: str, method: str, paper: str) -> Claim:
    key, spread = f"{dataset}/{method}", np.linspace(-1, 1, 4)
    return Claim(
        statement=f"{dataset}: {method} ends at a locally attracting stationary point of its own field: max Re(lambda) of "
        "its Jacobian < 0, read only at tracked seeds whose end norm(v) <= stationary_ratio x norm(v_0)",
        paper=paper,
        measure=trained(dataset, (method,), end_eigen_at_rest(key), arrays=("max_real_eigen",)),
        region=below(0.0),
        control=Control(
            name="a negative max Re(lambda) read away from a stationary point (norm(v) stays at norm(v_0))",
            results=lambda: eigen_trajectory(key, [[0.5] * 4, -0.3 + 0.05 * spread], [[1.0] * 4, [0.9] * 4]),
        ),
        passing=lambda: eigen_trajectory(key, [[0.5] * 4, -0.3 + 0.05 * spread], [[1.0] * 4, 0.01 + 0.002 * spread]),
        fmt="{:+.3g}",
    )


CLAIMS = [
    covers_at_least("ring", "unrolled", 6, "7.6 (VEEGAN)"),
    covers_at_least("ring", "wgan-gp", 6, "8, 7, 8 with its recipe (review)"),
    beats_plain("ring", "7.6 - 1 = 6.6 (VEEGAN)"),
    plain_collapses("ring", "1 mode, 99.3% HQ (VEEGAN)"),
    covers_at_least("grid", "unrolled", 20, "23.6 (VEEGAN)"),
    beats_plain("grid", "23.6 - 3.3 = 20.3 (VEEGAN)"),
    attracting_at_end(
        "ring", "r1", "R1 is locally convergent: Re(lambda) < 0 at the equilibrium (Mescheder et al. 2018, Thm 4.1)"
    ),
    attracting_at_end(
        "ring",
        "consensus",
        "J - gamma J^T J has Re(lambda) < 0 at a stationary point, J invertible, "
        "gamma large enough (Mescheder et al. 2017)",
    ),
]


if __name__ == "__main__":
    main(NAME)
