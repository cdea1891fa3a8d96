"""The forward gradient (`research.autodiff.forward_gradient`) measured on an MLP: the estimator's pool at
initialization, trainer steps that update by it, and blocks of plain-SGD steps for the step timing."""

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from scipy import stats as scipy_stats

from common import bench, stats
from common.nn import softmax_cross_entropy
from common.train import apply_gradients, new_state, step_key
from research.autodiff import args as A
from research.autodiff import forward_gradient as FG
from research.autodiff.flops import loop_aware_count


class Arm(NamedTuple):
    """A training method at its chosen learning rate (recorded under the method's name), and the grid it was
    chosen from, widenings included."""

    step: np.ndarray
    train_loss: np.ndarray  # (points, seeds)
    validation_loss: np.ndarray  # (seeds,) final, inf where the seed diverged
    lr: float
    grid: np.ndarray  # (V,) every rate tried
    grid_validation: np.ndarray  # (V, seeds) final validation loss at each rate, inf where the seed diverged
    widenings: int


def sgd_with_lr_in_state() -> optax.GradientTransformation:
    """Plain SGD whose learning rate lives in the optimizer state (set in `init`), so one step function
    serves every rate of a grid and compiles once."""
    return optax.inject_hyperparams(optax.sgd)(learning_rate=0.0)


def forward_gradient_step(model, optimizer, num_tangents: int):
    """A trainer step whose update is the forward gradient: no backward pass."""

    def step(state, batch):
        x, y = batch

        def loss(params):
            return softmax_cross_entropy(model.apply(params, state.model_state, x, train=True)[0], y)

        value, estimate = FG.forward_gradient(loss, state.params, step_key(state), num_tangents)
        state, norms = apply_gradients(state, estimate, optimizer)
        return state, {"loss": value, **norms}

    return step


def he_params(model, example, rng: np.random.Generator):
    """The model's parameters with its initializer's law (He: N(0, 2 / fan_in), zero biases), drawn by numpy:
    jax.random's eager draws would compile a program per shape."""
    return A.lecun_like(rng, jax.eval_shape(model.init_variables, jax.random.key(0), example)[0], gain=math.sqrt(2))


def initial_states_by_key(model, keys, example, seed: int):
    """init(key, lr) -> the trainer state of the seed whose key is `key`, with SGD at rate `lr`.

    Every seed's parameters are drawn once, by numpy with the model's He law (no program to compile); each
    rate's init looks its seed's parameters up by key. Every rate and method so starts from the same
    parameters per seed: the comparison is paired."""
    draws = [he_params(model, example, np.random.default_rng([seed, s])) for s in range(len(keys))]
    params = jax.tree.map(lambda *a: jax.device_put(np.stack(a)), *draws)  # stacked on the host: no program
    key_data = jax.random.key_data(keys)

    def init(key, lr):
        index = jnp.argmax(jnp.all(jax.random.key_data(key) == key_data, axis=-1))
        p = jax.tree.map(lambda a: a[index], params)
        opt_state = sgd_with_lr_in_state().init(p)
        opt_state.hyperparams["learning_rate"] = jnp.asarray(lr, jnp.float32)
        return new_state(p, opt_state, key, {})  # the ReLU MLP keeps no model state

    return init


def pool_block(ks: tuple[int, ...]) -> int:
    """Estimates per scan step: a multiple of every k (so that each step's estimates group k at a time),
    at least 64."""
    lcm = math.lcm(*ks)
    return lcm * max(1, 64 // lcm)


class Pool(NamedTuple):
    """N one-tangent estimates at one point: each one's projection on grad f, their mean, grad f itself, and
    the cosine with grad f of the k-tangent estimates formed by grouping the pool k at a time."""

    projection: np.ndarray  # <g_i, grad f> / |grad f|^2, (N,)
    mean: np.ndarray
    gradient: np.ndarray
    samples: int
    cosines: dict  # k -> (N / k,)


def estimator_pool(model, params, batch, ks: tuple[int, ...], samples: int, seed: int) -> Pool:
    """One compiled program; parameters and data are its arguments, never captured constants: XLA would
    constant-fold the whole forward pass at compile time (minutes). `samples`: rounded down to a multiple
    of `pool_block(ks)`."""
    block = pool_block(ks)
    samples = block * (samples // block)

    def loss(p, x, y):
        return softmax_cross_entropy(model.apply(p, {}, x, train=False)[0], y)

    @jax.jit
    def pool(p, key, x, y):
        g = ravel_pytree(jax.grad(loss)(p, x, y))[0]

        def body(total, key):
            e = FG.one_tangent_estimates(lambda q: loss(q, x, y), p, key, block)  # (block, n)
            groups = {k: e.reshape(block // k, k, -1).mean(axis=1) for k in ks}  # k-tangent estimates
            cosines = {k: m @ g / (jnp.linalg.norm(m, axis=1) * jnp.linalg.norm(g)) for k, m in groups.items()}
            return total + e.sum(axis=0), (e @ g / jnp.vdot(g, g), cosines)

        total, (projections, cosines) = jax.lax.scan(body, jnp.zeros_like(g),
                                                     jax.random.split(key, samples // block))
        return g, total / samples, projections.ravel(), {k: c.ravel() for k, c in cosines.items()}

    true, mean, projections, cosines = pool(params, jax.random.key(seed + 1), *batch)
    return Pool(np.asarray(projections, float), np.asarray(mean, float), np.asarray(true, float), samples,
                {k: np.asarray(c, float) for k, c in cosines.items()})


def orthogonal_to(g: np.ndarray, norm: float) -> np.ndarray:
    """A fixed direction (a seeded draw, its own seed) made orthogonal to g, of length norm |g|."""
    b = np.random.default_rng(2202_08587).standard_normal(g.size)
    b -= (b @ g) / (g @ g) * g
    return b * norm * np.linalg.norm(g) / np.linalg.norm(b)


def step_programs(model, params, batch, steps: int) -> dict:
    """name -> (fn, args): `steps` plain-SGD steps (lax.scan) of backprop, of the 1-tangent forward gradient
    drawing its tangents, and of the same with tangents drawn ahead of time (an argument)."""
    x, y = batch
    lr = 1e-4

    def loss(p):
        return softmax_cross_entropy(model.apply(p, {}, x, train=False)[0], y)

    def sgd(p, g):
        return jax.tree.map(lambda a, b: a - lr * b, p, g)

    def backprop(p):
        return jax.lax.scan(lambda p, _: (sgd(p, jax.grad(loss)(p)), None), p, None, length=steps)[0]

    def forward_sampled(p, key):
        return jax.lax.scan(lambda p, k: (sgd(p, FG.forward_gradient(loss, p, k)[1]), None), p,
                            jax.random.split(key, steps))[0]

    def forward_predrawn(p, tangents):
        return jax.lax.scan(lambda p, t: (sgd(p, FG.forward_gradient_from_tangents(loss, p, t)[1]), None), p,
                            tangents)[0]

    tangents = A.normal_like(np.random.default_rng(1), jax.tree.map(  # drawn by numpy: no program to compile
        lambda a: jax.ShapeDtypeStruct((steps, 1, *a.shape), a.dtype), params))
    return {"backprop": (backprop, (params,)), "forward": (forward_sampled, (params, jax.random.key(1))),
            "forward, tangents drawn ahead": (forward_predrawn, (params, tangents))}


def _compiled_call(fn: Callable, args: tuple) -> Callable[[], object]:
    """fn compiled ahead of time for args, as a zero-argument call."""
    executable = jax.jit(fn).lower(*args).compile()
    return lambda: executable(*args)


class StepTiming(NamedTuple):
    parameters: int
    steps: int  # SGD steps per timed program
    operations: dict  # name -> loop-aware FLOPs of the program
    rounds: bench.Rounds  # interleaved, A/A on backprop


def time_steps(model, batch, seed: int, rounds: int, min_seconds: float) -> StepTiming:
    """The three step programs at one width, each a block of steps long enough that backprop's takes
    >= min_seconds, in interleaved rounds."""
    params = he_params(model, batch[0], np.random.default_rng(seed))
    fn, args = step_programs(model, params, batch, 1)["backprop"]
    one = bench.time_function(fn, *args, repeats=5).min_seconds
    steps = int(min(256, max(1, np.ceil(min_seconds / one))))
    programs = step_programs(model, params, batch, steps)
    operations = {name: loop_aware_count(fn, *args).flops for name, (fn, args) in programs.items()}
    timed = bench.interleaved({name: _compiled_call(fn, args) for name, (fn, args) in programs.items()}, "backprop", rounds=rounds, seed=seed)
    return StepTiming(sum(int(np.size(p)) for p in jax.tree.leaves(params)), steps, operations, timed)


def cosine_rows(pool: Pool) -> list[dict]:
    """A report row per k: the pool's mean cosine against the exact law (t interval) and its large-n form."""
    dim = pool.gradient.size
    return [{"tangents k": k, "estimates": c.size, "mean cosine": float(c.mean()),
             "exact E cos": FG.expected_cosine(dim, k),
             "measured / exact (95% interval)": f"{stats.mean(c / FG.expected_cosine(dim, k), 'estimates'):.4g}",
             "(1 + (n+1)/k)^(-1/2)": FG.large_n_cosine(dim, k),
             "large-n form / exact": FG.large_n_cosine(dim, k) / FG.expected_cosine(dim, k)}
            for k, c in pool.cosines.items()]


def timing_rows(width: int, timing: StepTiming) -> list[dict]:
    """A report row per program: ms per step, time and operations over backprop's (backprop's row: its A/A)."""
    return [{"width": width, "parameters": timing.parameters, "steps per program": timing.steps, "program": name,
             "ms per step (median)": float(np.median(timing.rounds.seconds[name])) / timing.steps * 1e3,
             "time / backprop (95% interval)":
                 f"{timing.rounds.ratio(name if name != 'backprop' else 'backprop' + bench.AA_SUFFIX):.3g}",
             "ops / backprop": ops / timing.operations["backprop"]} for name, ops in timing.operations.items()]


def exact_projections(scale: float = 1.0, n: int = 4096) -> np.ndarray:
    """Quantiles of chi^2_1 (the law of (g.v)^2 / |g|^2), scaled: an exact unbiased / half / zero sample."""
    return scale * scipy_stats.chi2.ppf((np.arange(n) + 0.5) / n, 1)


def exact_mean_estimate(orthogonal_bias: float, n: int, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """A gradient g and the mean of `samples` estimates with the one-tangent variance |g|^2 + g_j^2 per
    coordinate, plus a bias of norm `orthogonal_bias` |g| orthogonal to g."""
    rng = np.random.default_rng(0)
    g = rng.normal(size=n)
    return g + rng.normal(size=n) * np.sqrt((g @ g + g**2) / samples) + orthogonal_to(g, orthogonal_bias), g


def exact_cosines(ks: tuple[int, ...], dim: int, draws: int, k_independent: bool) -> dict[int, np.ndarray]:
    """Cosines drawn from the exact law sqrt(B), B ~ Beta(k/2, (n-1)/2); or k = 1's at every k."""
    rng = np.random.default_rng(0)
    return {k: np.sqrt(rng.beta((1 if k_independent else k) / 2, (dim - 1) / 2, draws)) for k in ks}
