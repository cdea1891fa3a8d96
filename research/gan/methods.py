"""The GAN methods of the mixture studies as trainable games: two tanh MLPs, each method's losses and field,
and one training step (Metz et al. 2016; Gulrajani et al. 2017; Mescheder et al. 2017, 2018).

A `Recipe` says how a method trains (optimizers, update order, rates, its game's weight); the rates and
weights are traced inputs (`rate_values`), so fits that differ only in them share one compiled program
(`PROGRAM`: the GAN, the non-saturating GAN and R1 are one game with traced weights).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from common import config as checks
from common.data.synthetic import sample_mixture
from common.members import Members, with_hyperparams
from common.models import MLP
from common.train import new_state
from research.gan.game import (
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
from research.gan.losses import (
    LOSSES,
    GanLoss,
    gan_d_loss,
    gan_g_loss_nonsaturating,
    gan_g_loss_saturating,
    r1_penalty,
    wgan_gp_penalty,
)

METHODS = ("gan", "nsgan", "wgan-gp", "r1", "unrolled", "consensus")
LABELS = {"gan": "GAN (minimax)", "nsgan": "non-saturating GAN", "wgan-gp": "WGAN-GP", "r1": "R1 penalty",
          "unrolled": "unrolled GAN", "consensus": "consensus optimization"}  # the figures' names of the methods
# The compiled program each method trains with, named by one of its methods.
PROGRAM = {"gan": "gan", "nsgan": "gan", "r1": "gan", "wgan-gp": "wgan-gp", "unrolled": "unrolled",
           "consensus": "consensus"}
STRENGTH = {"wgan-gp": "gp_weight", "r1": "r1_gamma", "consensus": "consensus_gamma"}  # the config field of each
NON_SATURATING = ("nsgan", "r1")  # generator losses: these the non-saturating one, WGAN-GP its own, the rest minimax
WEIGHTS = ("strength", "saturating")  # a game's traced weights (see `method_game`)
DATA_TAG, EVAL_TAG = 0x5EED, 0xE7A1  # fold_in tags: batches, evaluation codes


class Recipe(NamedTuple):
    """How a method trains: its optimizers (each with its learning rate in its state), critic steps per
    generator step, update order, and its rates and game weights (traced: see `rates_of`)."""

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


def rmsprop() -> optax.GradientTransformation:
    """RMSProp whose learning rate is a traced value in its state (see `adam`)."""
    return optax.inject_hyperparams(optax.rmsprop)(learning_rate=0.0)


def weights_of(recipe: Recipe) -> dict[str, float]:
    return {name: getattr(recipe, name) for name in WEIGHTS}


def rate_values(recipe: Recipe) -> dict[str, float]:
    return {"lr_g": recipe.lr_g, "lr_d": recipe.lr_d, **weights_of(recipe)}


def same_run(a: Recipe, b: Recipe) -> bool:
    """Same rates and weights: with the same step and keys, the same numbers."""
    return rate_values(a) == rate_values(b)


def rates_of(recipe: Recipe) -> Members:
    """The recipe's rates and weights as the trainer's one sweep member: traced inputs of `init`."""
    values = rate_values(recipe)
    return Members({k: jnp.asarray([v], jnp.float32) for k, v in values.items()}, (values,))


class Players:
    """The two networks: 2 x `hidden` tanh MLPs, the generator from z of `z_dim` to 2-D."""

    def __init__(self, hidden: int, z_dim: int, init: str, gain: float):
        self.generator = MLP((hidden, hidden), 2, activation="tanh", init=init, gain=gain)
        self.discriminator = MLP((hidden, hidden), 1, activation="tanh", init=init, gain=gain)
        self.z_dim = z_dim

    def g_apply(self, params, z):
        return self.generator.apply(params, {}, z)[0]

    def d_apply(self, params, x):
        return self.discriminator.apply(params, {}, x)[0][:, 0]

    def initializer(self, recipe: Recipe):
        """init(key, member) of one seed: fresh networks, the member's rates in the optimizer states and its
        game's weights in `state.member` (where the step reads them)."""

        def init(key, member):
            key_g, key_d = jax.random.split(key)
            g = self.generator.init_variables(key_g, jnp.zeros((1, self.z_dim)))[0]
            d = self.discriminator.init_variables(key_d, jnp.zeros((1, 2)))[0]
            opt_state = {"g": with_hyperparams(recipe.g_opt.init(g), {"learning_rate": member["lr_g"]}),
                         "d": with_hyperparams(recipe.d_opt.init(d), {"learning_rate": member["lr_d"]})}
            return new_state({"g": g, "d": d}, opt_state, key, member={name: member[name] for name in WEIGHTS})

        return init

    def generated(self, state, samples: int):
        """One seed's evaluation samples: fixed codes drawn from the seed's key."""
        z = jax.random.normal(jax.random.fold_in(state.key, EVAL_TAG), (samples, self.z_dim))
        return self.g_apply(state.params["g"], z)


def players(config) -> Players:
    """The networks of a config with fields hidden, z_dim, init and init_gain."""
    return Players(config.hidden, config.z_dim, config.init, config.init_gain if config.init == "orthogonal" else 1.0)


def wgan_gp_recipe(config, strength: float, saturating: float) -> Recipe:
    """Gulrajani et al. 2017, Algorithm 1: critic steps per generator step, Adam for both players."""
    betas = config.wgan_betas
    return Recipe(adam(betas), adam(betas), config.critic_steps, "critic", config.wgan_lr, config.wgan_lr, strength,
                  saturating, betas, f"{config.critic_steps} critic steps / generator step, Adam({config.wgan_lr:g}, "
                  f"betas ({betas[0]:g}, {betas[1]:g})) both, lambda {config.gp_weight:g} (Gulrajani et al.)")


def consensus_recipe(config, strength: float, saturating: float) -> Recipe:
    """Mescheder et al. 2017 trained consensus optimization with RMSProp."""
    return Recipe(rmsprop(), rmsprop(), 1, config.update, config.consensus_lr, config.consensus_lr, strength,
                  saturating, (config.beta1, 0.999), f"{config.update}, RMSProp lr {config.consensus_lr:g} both, "
                  f"gamma {config.consensus_gamma:g} (Mescheder et al. 2017)")


def metz_recipe(config, strength: float, saturating: float, extra: str = "") -> Recipe:
    """Metz et al. 2016's setup: Adam at lr_g / lr_d, beta1, simultaneous or alternating steps."""
    betas = (config.beta1, 0.999)
    return Recipe(adam(betas), adam(betas), 1, config.update, config.lr_g, config.lr_d, strength, saturating, betas,
                  f"{config.update}, Adam lr_G {config.lr_g:g} / lr_D {config.lr_d:g}, beta1 {config.beta1:g} "
                  f"(Metz et al.){extra}")


RECIPES = {  # by method; each Recipe(config, strength, saturating)
    "gan": metz_recipe, "nsgan": metz_recipe, "wgan-gp": wgan_gp_recipe, "consensus": consensus_recipe,
    "r1": lambda c, strength, saturating: metz_recipe(c, strength, saturating, f", gamma {c.r1_gamma:g}"),
    "unrolled": lambda c, strength, saturating: metz_recipe(c, strength, saturating,
                                                            f", {c.unroll_steps} unrolling steps"),
}


def recipe(method: str, config) -> Recipe:
    """A method's recipe (`RECIPES`) from a config's fields, with its game's weight and generator loss."""
    strength = getattr(config, STRENGTH[method]) if method in STRENGTH else 0.0
    return RECIPES[method](config, strength, 0.0 if method in NON_SATURATING else 1.0)


def generator_mix(saturating) -> GanLoss:
    """The GAN's losses, the generator's `saturating` x the minimax loss + (1 - saturating) x the
    non-saturating one (Goodfellow et al. 2014, eq. 1 and section 3): at 1 or 0 exactly one of them."""

    def g_loss(d_fake):
        return saturating * gan_g_loss_saturating(d_fake) + (1 - saturating) * gan_g_loss_nonsaturating(d_fake)

    return GanLoss(gan_d_loss, g_loss)


def wgan_gp_game(players: Players, weights: dict):
    def penalty(d, x_real, x_fake, key):
        return wgan_gp_penalty(players.d_apply, d, x_real, x_fake, key, weight=weights["strength"])

    return LOSSES["wgan"], penalty


def r1_game(players: Players, weights: dict):
    """The GAN, NSGAN and R1: R1 at strength 0 is the plain game."""
    def penalty(d, x_real, x_fake, key):
        return r1_penalty(players.d_apply, d, x_real, weights["strength"])

    return generator_mix(weights["saturating"]), penalty


GAMES = {"wgan-gp": wgan_gp_game, "gan": r1_game}  # by program; the rest: the minimax game, no penalty


def method_game(method: str, players: Players, d_opt, weights: dict, unroll_steps: int):
    """(g_loss, d_loss, make_field) of a method; make_field(d_opt_state) -> the field it steps along."""
    game = GAMES.get(PROGRAM[method])
    loss, penalty = game(players, weights) if game else (LOSSES["gan"], None)
    g_loss, d_loss = gan_losses(loss, players.g_apply, players.d_apply, penalty)

    def make_field(d_opt_state):
        return FIELDS.get(method, plain_field)(g_loss, d_loss, d_opt, d_opt_state, weights, unroll_steps)

    return g_loss, d_loss, make_field


def plain_field(g_loss, d_loss, d_opt, d_opt_state, weights, unroll_steps):
    return game_field(g_loss, d_loss)


FIELDS = {  # the methods that step along another field than v = (-grad_g g_loss, -grad_d d_loss)
    # Metz et al. 2016, eq. 12: the generator against the discriminator unrolled `unroll_steps` steps
    "unrolled": lambda g_loss, d_loss, d_opt, d_opt_state, weights, unroll_steps: game_field(
        unrolled_g_loss(g_loss, d_loss, d_opt, d_opt_state, unroll_steps), d_loss),
    # Mescheder et al. 2017, eq. 9: v - gamma grad(1/2 ||v||^2)
    "consensus": lambda g_loss, d_loss, d_opt, d_opt_state, weights, unroll_steps: consensus_field(
        game_field(g_loss, d_loss), weights["strength"]),
}


def first(batch: GanBatch) -> GanBatch:
    return jax.tree.map(lambda a: a[0], batch)


UPDATES = {
    "critic": lambda field, recipe, gan, batches: critic_steps_update(field, recipe.g_opt, recipe.d_opt, gan,
                                                                      batches),
    "simultaneous": lambda field, recipe, gan, batches: simultaneous_update(field, recipe.g_opt, recipe.d_opt,
                                                                            gan, first(batches)),
    "alternating": lambda field, recipe, gan, batches: alternating_update(
        field, recipe.g_opt, recipe.d_opt, gan, first(batches), generator_first=False),
}


def gan_step(method: str, players: Players, recipe: Recipe, unroll_steps: int, blowup: float):
    """The trainer's step(state, batch): one generator update (after its critic steps)."""

    def step(state, batches: GanBatch):
        g_loss, d_loss, make_field = method_game(method, players, recipe.d_opt, state.member, unroll_steps)
        gan = GanState(state.params["g"], state.params["d"], state.opt_state["g"], state.opt_state["d"])
        field, batch = make_field(gan.d_opt_state), first(batches)
        new = UPDATES[recipe.update](field, recipe, gan, batches)
        params = {"g": new.g_params, "d": new.d_params}
        norm = optax.tree.norm(params)
        metrics = {
            "loss": d_loss(gan.g_params, gan.d_params, batch),
            "g_loss": g_loss(gan.g_params, gan.d_params, batch),
            # NaN once the parameters blow up: the trainer then stops this seed and records the step.
            "param_norm": jnp.where(norm > blowup, jnp.nan, norm),
        }
        return state.replace(params=params, opt_state={"g": new.g_opt_state, "d": new.d_opt_state}), metrics

    return step


def batch_sampler(batch_size: int, z_dim: int, std: float, critic_steps: int = 1):
    """Batches with a leading axis of `critic_steps` (a fresh batch for every critic step)."""

    def one(centers, key):
        key_x, key_z, key_penalty = jax.random.split(key, 3)
        return GanBatch(x_real=sample_mixture(key_x, centers, batch_size, std),
                        z=jax.random.normal(key_z, (batch_size, z_dim)), key=key_penalty)

    def sample(centers, key, step):
        keys = jax.random.split(jax.random.fold_in(jax.random.fold_in(key, DATA_TAG), step), critic_steps)
        return jax.vmap(lambda k: one(centers, k))(keys)

    return sample


def check_fields(config, subsets: dict[str, tuple[str, ...]]) -> None:
    """A config's recipe and metric fields, each impossible value a ValueError of one line; `subsets`: tuple
    fields and the names each may hold."""
    checks.require_numbers_representable(config)
    checks.require_distinct(config, tuple(subsets))
    checks.require_at_least_one(config, ("seeds", "steps", "batch_size", "z_dim", "hidden", "eval_samples", "eval_every",
                                  "chunk", "unroll_steps", "critic_steps", "min_count"))
    checks.require_positive(config, ("lr_g", "lr_d", "wgan_lr", "consensus_lr", "std", "blowup", "init_gain"))
    checks.require_in_range(config, ("beta1", "wgan_betas"), 0.0, 1.0, open_high=True)
    checks.require_in_range(config, ("hq_floor",), 0.0, 1.0)
    checks.require_non_negative(config, ("gp_weight", "r1_gamma", "consensus_gamma"))
    if config.eval_every % config.chunk:
        raise ValueError(f"eval_every ({config.eval_every}) must be a multiple of chunk ({config.chunk})")
    for field, allowed in subsets.items():
        values = getattr(config, field)
        if not values or any(v not in allowed for v in values):
            raise ValueError(f"{field} must be a non-empty subset of {' '.join(allowed)} (got {values})")


def unused_fields(config) -> dict[str, str]:
    """The recipe fields a config's methods leave inert, each with why."""
    by_method = {"unroll_steps": "unrolled", "gp_weight": "wgan-gp", "wgan_lr": "wgan-gp", "wgan_betas": "wgan-gp",
                 "critic_steps": "wgan-gp", "r1_gamma": "r1", "consensus_gamma": "consensus", "consensus_lr": "consensus"}
    unused = {field: f"only the {method} method uses it and --methods leaves {method} out"
              for field, method in by_method.items() if method not in config.methods}
    return unused | ({"init_gain": "only the orthogonal init has a gain"} if config.init != "orthogonal" else {})
