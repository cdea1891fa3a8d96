"""Training without backpropagation: the forward gradient on MNIST-1D.

    python run.py ad-forward-gradient --preset quick     # ~20 s on the shared 2-core CPU
    python run.py ad-forward-gradient --preset paper     # wider MLP, longer, more seeds

Baydin et al. (2022, arXiv 2202.08587): g = (grad f . v) v with v ~ N(0, I) is
an unbiased estimate of grad f from one forward-mode pass (a jvp), with no
stored activations (their Theorem 1); they report training "up to twice as
fast" as backprop in wall time in some cases. An independent reimplementation
saw no speed-up and lower accuracy. Here:

- the estimator at initialization, from one pool of N one-tangent estimates:
  the bias along grad f (each estimate's projection <g_i, grad f> / |grad f|^2,
  mean 1) and in every direction (the squared bias of the mean of the N,
  within 0.15 |grad f|; its interval includes the factor (grad f . v_i)^2 that
  all coordinates of an estimate share), each beside an estimator it must
  reject on the same tangents (half the estimate; a bias of 0.3 |grad f|
  orthogonal to grad f, which the projection cannot see); the exact cosine law
  E cos against the number of tangents k, the pool grouped k at a time
  (`research.autodiff.forward_gradient`);
- training an MLP by backprop and by the forward gradient with 1 and k
  tangents (plain SGD), each method at its own learning rate chosen from a grid
  on a validation split carved from the training set (the test set only scores
  the chosen rate), best against best;
- the time of a step, in interleaved rounds with an A/A calibration, at the
  training width and at a width where the jvp, not drawing the tangents,
  dominates, with tangents drawn in the step and drawn ahead of time; the
  paper's speed-up is claimed with a stated 10% margin (time ratio < 0.9): the
  two steps have equal operations, and a tie sits within this CPU's noise.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from scipy import stats as scipy_stats

from common import bench, plots, stats
from common.config import require_at_least_one, require_distinct, require_numbers_representable, require_positive
from common.experiment import Claim, Control, DataUse, Results, arrays, at_most, below, near
from common.members import Members
from common.models import MLP
from common.nn import softmax_cross_entropy
from common.train import (Loop, apply_gradients, classifier_evaluation, epoch_batches, fit, new_state, seed_keys,
                          step_key, supervised_step)
from experiments.api import main
from research.autodiff import costs as AD
from research.autodiff import args as A
from research.autodiff import flops as F
from research.autodiff import forward_gradient as FG

NAME = "ad-forward-gradient"
STUDY = "autodiff"
PAPER = "Baydin, Pearlmutter, Syme, Wood, Torr 2022, Gradients without Backpropagation (arXiv 2202.08587)"
REPRODUCES = ("the forward gradient is unbiased (along grad f, and within 0.15 |grad f| in every direction); its "
              "cosine with grad f follows the law in k; time per step against backprop (the paper's speed-up, "
              "up to 2x, with a 10% margin) and final loss at tuned learning rates")
MIN_PROGRAM_SECONDS = 3e-3  # backprop's program runs this long, so that the others (down to ~half) pass 1 ms


@dataclass(frozen=True)
class Config:
    """MLP on MNIST-1D: backprop against forward gradients with 1 and k tangents."""

    seeds: int = 3
    """Independent seeds per method and learning rate, vmapped in one program (two give a t interval
    12.7 standard errors wide)."""
    width: int = 32
    """Width of the 2-hidden-layer ReLU MLP."""
    tangents: int = 8
    """k of the k-tangent forward gradient (the 1-tangent one always runs)."""
    steps: int = 1500
    """Training steps."""
    chunk: int = 250
    """Steps per compiled lax.scan (the host sees metrics and may checkpoint once per chunk)."""
    batch_size: int = 100
    """Examples per minibatch."""
    validation: int = 800
    """Training examples held out to choose each method's learning rate (the test set is never used for it)."""
    backprop_lrs: tuple[float, ...] = (0.03, 0.1, 0.3)
    """Plain SGD step sizes tried for backprop."""
    forward_lrs: tuple[float, ...] = (0.002, 0.004, 0.008)
    """Step sizes tried for the 1-tangent forward gradient (its variance is ~n times |grad|^2; both quick
    seeds diverged at 0.01; grids one and two steps lower chose their top rate)."""
    forward_k_lrs: tuple[float, ...] = (0.004, 0.008, 0.016)
    """Step sizes tried for the k-tangent forward gradient (variance k times smaller)."""
    estimator_samples: int = 16384
    """One-tangent forward gradients N at initialization, for the bias checks and, grouped k at a time, the
    cosine law (N / k estimates per k; rounded down to a multiple of the k values' least common multiple).
    The bias check's interval is about +-1.96 sqrt(2 n (N + n)) / N^1.5 for n parameters: 16384 resolve
    0.15 |grad f| at the quick width."""
    cosine_tangents: tuple[int, ...] = (1, 4, 16, 64, 256)
    """k values of the cosine law."""
    timing_width: int = 256
    """Second width of the step timing, where the jvp's cost, not drawing tangents, dominates."""
    rounds: int = 10
    """Interleaved timing rounds."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_distinct(self, ('cosine_tangents', 'backprop_lrs', 'forward_lrs', 'forward_k_lrs'))
        require_at_least_one(self, ("seeds", "width", "tangents", "steps", "chunk", "batch_size", "validation",
                                    "estimator_samples", "timing_width", "cosine_tangents"))
        require_positive(self, ("backprop_lrs", "forward_lrs", "forward_k_lrs"))
        if self.steps % self.chunk:
            raise ValueError(f"steps ({self.steps}) must be a multiple of chunk ({self.chunk})")
        if self.rounds < 2:
            raise ValueError(f"rounds must be at least 2 (got {self.rounds})")
        if self.estimator_samples < math.lcm(*self.cosine_tangents):
            raise ValueError(f"estimator_samples ({self.estimator_samples}) must be at least the least common "
                             f"multiple of cosine_tangents ({math.lcm(*self.cosine_tangents)})")

    def data_use(self) -> DataUse:
        # The batches come from what is left after the validation examples are held out.
        return DataUse("mnist1d", {"batch_size + validation": self.batch_size + self.validation})


PRESETS = {
    "quick": Config(tangents=4),  # the k-tangent run is a table, not a claim: k = 4 halves its jvps (k = 8: 2x)
    "paper": Config(seeds=5, width=256, tangents=16, steps=20000, chunk=1000, estimator_samples=262144,
                    backprop_lrs=(0.01, 0.03, 0.1, 0.3), forward_lrs=(0.00003, 0.0001, 0.0003, 0.001),
                    forward_k_lrs=(0.0003, 0.001, 0.003, 0.01), timing_width=1024, rounds=20),
}


# Training ----------------------------------------------------------------------------------------------

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


@dataclass(frozen=True)
class Method:
    name: str
    step: Callable
    grid: tuple[float, ...]


def methods(config: Config, model) -> list[Method]:
    """One step object per method (the learning rate is optimizer state)."""
    sgd = sgd_with_lr_in_state()
    return [Method("backprop", supervised_step(model, sgd), config.backprop_lrs),
            Method("forward k=1", forward_gradient_step(model, sgd, 1), config.forward_lrs),
            Method(f"forward k={config.tangents}", forward_gradient_step(model, sgd, config.tangents),
                   config.forward_k_lrs)]


def split_validation(data, size: int, seed: int):
    """(train, validation) carved from the training set by a fixed permutation."""
    if size >= len(data.x_train):
        raise ValueError(f"validation ({size}) must be smaller than the training set ({len(data.x_train)})")
    order = np.random.default_rng(seed).permutation(len(data.x_train))
    held, kept = order[:size], order[size:]
    return (data.x_train[kept], data.y_train[kept]), (data.x_train[held], data.y_train[held])


def initial_states_by_key(model, keys, example, seed: int):
    """init(key, lr) -> the trainer state of the seed whose key is `key`, with SGD at rate `lr`.

    Every seed's parameters are drawn once, by numpy with the model's He law (`he_params`: no program to
    compile); each rate's init looks its seed's parameters up by key. Every rate and method so starts from
    the same parameters per seed: the comparison is paired."""
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


def train_grid(config: Config, model, data, session, results: Results) -> None:
    """Every method at every rate of its grid, the rates as sweep members beside the seeds (one compiled
    program per method); the rate with the lowest mean final validation loss wins."""
    train, validation = split_validation(data, config.validation, config.seed)
    evaluate = classifier_evaluation(model)
    score = jax.jit(jax.vmap(evaluate, in_axes=(0, None)))
    keys = seed_keys(config.seed, config.seeds)
    init = initial_states_by_key(model, keys, data.x_train[:1], config.seed)
    grid_rows, best_rows = [], []
    for method in methods(config, model):
        out = fit(method.name.replace(" ", "-").replace("=", ""),
                  init=lambda key, member: init(key, member["learning_rate"]), step=method.step,
                  sample_batch=epoch_batches(config.batch_size), data=train,
                  loop=Loop(steps=config.steps, chunk=config.chunk), keys=keys, evaluate=evaluate,
                  eval_data=validation, session=session, members=Members.grid(learning_rate=method.grid))
        diverged = out.diverged_at.reshape(out.shape)  # (rates, seeds)
        val_loss = np.where(diverged >= 0, np.inf, out.grid("eval/loss")[-1])
        accuracy = out.grid("eval/accuracy")[-1]
        for i, lr in enumerate(method.grid):
            grid_rows.append({"method": method.name, "lr": lr, "validation loss (mean)": float(np.mean(val_loss[i])),
                              "validation accuracy": float(np.nanmean(accuracy[i])),
                              "diverged seeds": int((diverged[i] >= 0).sum())})
        chosen = int(np.argmin(np.mean(val_loss, axis=1)))
        best = method.grid[chosen]
        seeds = slice(chosen * config.seeds, (chosen + 1) * config.seeds)  # member-major runs
        test = score(jax.tree.map(lambda a: a[seeds], out.state), (data.x_test, data.y_test))
        for row in grid_rows[-len(method.grid):]:
            row["chosen"] = "yes" if row["lr"] == best else ""
        edge = len(method.grid) > 1 and best in (min(method.grid), max(method.grid))
        train_loss = out.grid("train/loss")[:, chosen]  # (points, seeds)
        results.arrays[f"{method.name}/step"] = np.array(out.history["step"])
        results.arrays[f"{method.name}/train_loss"] = train_loss
        results.arrays[f"{method.name}/validation_loss"] = val_loss[chosen]
        results.scalars[f"{method.name}/lr"] = best
        best_rows.append({"method": method.name, "chosen lr": best, "at the grid's edge": "yes" if edge else "",
                          "validation loss": float(np.mean(val_loss[chosen])),
                          "final train loss (last chunk)": float(np.nanmean(train_loss[-1])),
                          "test loss": float(np.mean(test["loss"])), "test accuracy": float(np.mean(test["accuracy"]))})
    untrained = score(jax.vmap(lambda k: init(k, 0.0))(keys), validation)
    results.arrays["untrained/validation_loss"] = np.asarray(untrained["loss"])
    results.tables[f"Learning-rate grid: {config.steps} SGD steps, final loss on {config.validation} validation "
                   f"examples carved from the training set ({config.seeds} seeds)"] = grid_rows
    results.tables["Each method at its chosen learning rate (test set scored once, after the choice)"] = best_rows
    by_name = {r["method"]: r for r in best_rows}
    results.notes.append(
        f"At their tuned rates the 1-tangent forward gradient ends at validation loss "
        f"{by_name['forward k=1']['validation loss']:.3f} against backprop's {by_name['backprop']['validation loss']:.3f} "
        f"(lr {by_name['forward k=1']['chosen lr']:g} against {by_name['backprop']['chosen lr']:g}): its variance, "
        "(n + 1) |grad f|^2 per step, caps the usable step size far below backprop's.")
    edges = [r["method"] for r in best_rows if r["at the grid's edge"]]
    if edges:
        results.notes.append(f"The chosen rate is at its grid's edge for: {', '.join(edges)} (the grid table shows "
                             "the validation losses beside it).")


# The estimator ------------------------------------------------------------------------------------------

def he_params(model, example, rng: np.random.Generator):
    """The model's parameters with its initializer's law (He: N(0, 2 / fan_in), zero biases), drawn by numpy:
    jax.random's eager draws would compile a program per shape."""
    return A.lecun_like(rng, jax.eval_shape(model.init_variables, jax.random.key(0), example)[0], gain=math.sqrt(2))


def pool_block(ks: tuple[int, ...]) -> int:
    """Estimates per scan step: a multiple of every k (so that each step's estimates group k at a time),
    at least 64."""
    lcm = math.lcm(*ks)
    return lcm * max(1, 64 // lcm)


def estimator_study(config: Config, model, data, results: Results) -> None:
    """At initialization on one batch, from one pool of N one-tangent estimates: each estimate's projection
    on grad f, the mean estimate's bias, and the cosine law against k (the pool grouped k at a time: each
    group's mean is a k-tangent estimate). One compiled program; parameters and data are its arguments,
    never captured constants: XLA would constant-fold the whole forward pass at compile time (minutes)."""
    batch = (jnp.asarray(data.x_train[: config.batch_size]), jnp.asarray(data.y_train[: config.batch_size]))
    params = he_params(model, batch[0], np.random.default_rng(config.seed))
    ks = config.cosine_tangents
    block = pool_block(ks)
    samples = block * (config.estimator_samples // block)

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

    true, mean, projections, cosines = pool(params, jax.random.key(config.seed + 1), *batch)
    dim = true.size
    results.arrays["estimator/projection"] = np.asarray(projections, float)
    results.arrays["estimator/mean"] = np.asarray(mean, float)
    results.arrays["estimator/gradient"] = np.asarray(true, float)
    results.arrays["estimator/samples"] = np.array(samples)

    cosine_rows = []
    for k in ks:
        values = np.asarray(cosines[k], float)
        results.arrays[f"estimator/cosine/k{k}"] = values
        exact, approx = FG.expected_cosine(dim, k), FG.large_n_cosine(dim, k)
        m = stats.mean(values / exact, "estimates")
        cosine_rows.append({"tangents k": k, "estimates": values.size, "mean cosine": float(values.mean()),
                            "exact E cos": exact, "measured / exact": m.value, "95% low": m.interval[0],
                            "95% high": m.interval[1], "(1 + (n+1)/k)^(-1/2)": approx,
                            "large-n form / exact": approx / exact})
    results.arrays["estimator/tangents"] = np.array(ks)
    results.arrays["estimator/dimension"] = np.array(dim)
    rows = []
    for name, case in ESTIMATOR_CASES.items():
        along, bias = projection(case)(results), squared_bias(case)(results)
        rows.append({"estimator": name, "mean <g_i, grad f> / |grad f|^2": along.value,
                     "95% low": along.interval[0], "95% high": along.interval[1],
                     "squared bias |E g - grad f|^2 / |grad f|^2": bias.value,
                     "bias 95% low": bias.interval[0], "bias 95% high": bias.interval[1]})
    results.tables[f"Forward-gradient estimator at initialization ({dim} parameters, {samples} one-tangent "
                   "estimates; the other estimators are the same estimates changed)"] = rows
    results.tables[f"Cosine with grad f against the number of tangents k (the {samples} estimates grouped k at "
                   "a time; exact law and its large-n form)"] = cosine_rows


# Step time --------------------------------------------------------------------------------------------

def step_programs(model, width_params, batch, steps: int) -> dict:
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

    key = jax.random.key(1)
    tangents = A.normal_like(np.random.default_rng(1), jax.tree.map(  # drawn by numpy: no program to compile
        lambda a: jax.ShapeDtypeStruct((steps, 1, *a.shape), a.dtype), width_params))
    return {"backprop": (backprop, (width_params,)), "forward": (forward_sampled, (width_params, key)),
            "forward, tangents drawn ahead": (forward_predrawn, (width_params, tangents))}


def timing_study(config: Config, model_for, data, results: Results) -> None:
    batch = (jnp.asarray(data.x_train[: config.batch_size]), jnp.asarray(data.y_train[: config.batch_size]))
    rows = []
    for label, width in (("train", config.width), ("wide", config.timing_width)):
        model = model_for(width)
        params = he_params(model, batch[0], np.random.default_rng(config.seed))
        fn, args = step_programs(model, params, batch, 1)["backprop"]
        one = bench.time_function(fn, *args, repeats=5).min_seconds
        steps = int(min(256, max(1, np.ceil(MIN_PROGRAM_SECONDS / one))))
        programs = step_programs(model, params, batch, steps)
        ops = {name: F.loop_aware_count(fn, *args).flops for name, (fn, args) in programs.items()}
        compiled = {name: (lambda c=jax.jit(fn).lower(*args).compile(), a=args: c(*a))
                    for name, (fn, args) in programs.items()}
        rounds = bench.interleaved(compiled, "backprop", rounds=config.rounds, seed=config.seed)
        results.arrays |= rounds.as_arrays(f"time/{label}")
        n = sum(int(np.size(p)) for p in jax.tree.leaves(params))
        for name in programs:
            ratio = rounds.ratio(name if name != "backprop" else "backprop" + bench.AA_SUFFIX)
            rows.append({"width": width, "parameters": n, "steps per program": steps, "program": name,
                         "ms per step (median)": float(np.median(rounds.seconds[name])) / steps * 1e3,
                         "time / backprop": ratio.value, "95% low": ratio.interval[0], "95% high": ratio.interval[1],
                         "ops / backprop": ops[name] / ops["backprop"]})
    wide = {r["program"]: r for r in rows if r["width"] == config.timing_width}
    sampled, ahead = wide["forward"], wide["forward, tangents drawn ahead"]
    results.notes.append(
        f"At width {config.timing_width} a forward-gradient step takes {sampled['time / backprop']:.2f}x a backprop "
        f"step with its tangents drawn in the step and {ahead['time / backprop']:.2f}x "
        f"(95% [{ahead['95% low']:.2f}, {ahead['95% high']:.2f}]) with them drawn ahead: drawing n normals costs "
        "about as much as the jvp here, and the jvp's operations equal backprop's (ops column), so no speed-up "
        "beyond the noise is expected on a CPU.")
    results.tables[f"Time of one SGD step (batch {config.batch_size}) in {config.rounds} interleaved rounds; "
                   "the backprop row is its A/A ratio (backprop against itself)"] = rows


def run(config: Config, session) -> Results:
    data = session.dataset("mnist1d")

    def model_for(width):
        return MLP((width,) * 2, data.num_classes, activation="relu", init="he")

    results = Results()
    estimator_study(config, model_for(config.width), data, results)
    timing_study(config, model_for, data, results)
    train_grid(config, model_for(config.width), data, session, results)
    results.notes.append(
        f"Timed on {AD.timing_context()}. Each timed program runs a block of steps (lax.scan) so that it takes "
        f">= {MIN_PROGRAM_SECONDS * 1e3:.1f} ms; ratios are medians of per-round ratios with bootstrap intervals "
        "widened by the A/A rounds. 'ops' counts the traced operations (matmuls, elementwise, transcendentals; "
        "research.autodiff.flops): a jvp w.r.t. the parameters costs as many matmul FLOPs as a gradient "
        "(tangent h' = h' W + h W' is two matmuls per layer, as the backward pass is), so the forward gradient "
        "saves memory, not operations.")
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    names = [k.removesuffix("/train_loss") for k in a if k.endswith("/train_loss")]
    fig, axes = plots.new_figure(ncols=3)
    for name in names:
        label = f"{name} (lr {results.scalars.get(f'{name}/lr', float('nan')):g})"
        plots.seed_band(axes[0, 0], a[f"{name}/step"], a[f"{name}/train_loss"], label)
    axes[0, 0].set(xlabel="step", ylabel="train loss (chunk mean)", title="each method at its tuned lr")
    axes[0, 0].legend(fontsize=7)
    ax = axes[0, 1]
    ks = a["estimator/tangents"]
    dim = int(a["estimator/dimension"])
    measured = [a[f"estimator/cosine/k{int(k)}"].mean() for k in ks]
    fine = np.unique(np.geomspace(1, ks.max(), 50).round().astype(int))
    ax.plot(ks, measured, "o", label="measured")
    ax.plot(fine, [FG.expected_cosine(dim, int(k)) for k in fine], "-", label="exact Beta law")
    ax.plot(fine, [FG.large_n_cosine(dim, int(k)) for k in fine], ":", label="(1+(n+1)/k)^-1/2")
    ax.set(xscale="log", yscale="log", xlabel="tangents k", ylabel="mean cosine(estimate, grad)",
           title=f"cosine law, n = {dim}")
    ax.legend(fontsize=7)
    ax = axes[0, 2]
    ax.hist(a["estimator/projection"], bins=60, range=(0, 8), density=True, alpha=0.6, label="<g_i, g>/|g|^2")
    grid = np.linspace(0.02, 8, 200)
    ax.plot(grid, scipy_stats.chi2.pdf(grid, 1), "k-", lw=0.8, label="chi^2_1 (mean 1)")
    ax.axvline(a["estimator/projection"].mean(), color="C1", label="mean")
    ax.set(xlabel="projection on grad f", ylabel="density", title="one-tangent estimates", yscale="log")
    ax.legend(fontsize=7)
    plots.save(fig, directory, "forward_gradient", **a)


# Measures ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EstimatorCase:
    """The measured estimates changed into another estimator on the same tangents: each estimate times
    `scale`, plus a fixed bias of norm `orthogonal_bias` |grad f| orthogonal to grad f."""

    scale: float = 1.0
    orthogonal_bias: float = 0.0


ESTIMATOR_CASES = {"forward gradient": EstimatorCase(), "half of it": EstimatorCase(scale=0.5),
                   "zero": EstimatorCase(scale=0.0),
                   "biased by 0.3 |grad f| orthogonally to grad f": EstimatorCase(orthogonal_bias=0.3)}


def orthogonal_to(g: np.ndarray, norm: float) -> np.ndarray:
    """A fixed direction (a seeded draw, its own seed) made orthogonal to g, of length norm |g|."""
    b = np.random.default_rng(2202_08587).standard_normal(g.size)
    b -= (b @ g) / (g @ g) * g
    return b * norm * np.linalg.norm(g) / np.linalg.norm(b)


def projection(case: EstimatorCase = EstimatorCase()):
    """mean of <g_i, grad f> / |grad f|^2 over the one-tangent estimates of `case` (an orthogonal bias adds
    nothing to it: the projection sees bias along grad f only)."""
    return lambda r: stats.mean(case.scale * r.arrays["estimator/projection"], "estimates")


def squared_bias(case: EstimatorCase = EstimatorCase()):
    """|E g - grad f|^2 / |grad f|^2 estimated from the mean of `case`'s estimates
    (`research.autodiff.forward_gradient.squared_bias`: every direction, interval with the shared factor)."""
    def measure(r: Results) -> stats.Measurement:
        g = r.arrays["estimator/gradient"]
        mean = case.scale * r.arrays["estimator/mean"] + orthogonal_to(g, case.orthogonal_bias)
        return FG.squared_bias(mean, g, int(r.arrays["estimator/samples"]))

    return measure


def cosine_over_law(k_source: Callable[[int], str] = lambda k: f"estimator/cosine/k{k}"):
    """measured / exact E cos at every k: the hull of the per-k 95% intervals (inside the region only if
    every k is), the value at the k farthest from 1."""
    def measure(r: Results) -> stats.Measurement:
        dim = int(r.arrays["estimator/dimension"])
        per_k = [stats.mean(r.arrays[k_source(int(k))] / FG.expected_cosine(dim, int(k)), "estimates")
                 for k in r.arrays["estimator/tangents"]]
        worst = max(per_k, key=lambda m: abs(m.value - 1))
        return stats.Measurement(worst.value, (min(m.interval[0] for m in per_k), max(m.interval[1] for m in per_k)),
                                 f"hull of t intervals at {len(per_k)} values of k")
    return measure


def loss_ratio(numerator: str):
    """Per-seed final validation loss of `numerator` over backprop's (same seeds, same initial parameters)."""
    return lambda r: stats.mean(r.arrays[f"{numerator}/validation_loss"] / r.arrays["backprop/validation_loss"])


def step_time_ratio(numerator: str):
    return lambda r: AD.claimed_time_ratio(bench.rounds_from_arrays(r.arrays, "time/wide", "backprop"), numerator)


# Synthetic cases for the contract test -----------------------------------------------------------------

def chi2_projections(scale: float = 1.0, n: int = 4096) -> np.ndarray:
    """Quantiles of chi^2_1 (the law of (g.v)^2 / |g|^2), scaled: an exact unbiased / half / zero sample."""
    return scale * scipy_stats.chi2.ppf((np.arange(n) + 0.5) / n, 1)


def mean_estimate_case(orthogonal_bias: float, n: int = 2000, samples: int = 65536) -> Callable[[], Results]:
    """A gradient and the mean of `samples` estimates with the one-tangent variance |g|^2 + g_j^2 per
    coordinate, plus a bias of norm `orthogonal_bias` |g| orthogonal to g."""
    rng = np.random.default_rng(0)
    g = rng.normal(size=n)
    noisy = g + rng.normal(size=n) * np.sqrt((g @ g + g**2) / samples) + orthogonal_to(g, orthogonal_bias)
    return arrays({"estimator/mean": noisy, "estimator/gradient": g, "estimator/samples": samples})


def cosine_case(k_independent: bool, dim: int = 2698, draws: int = 2048) -> Callable[[], Results]:
    """Cosines drawn from the exact law sqrt(B), B ~ Beta(k/2, (n-1)/2); or k = 1's at every k."""
    rng = np.random.default_rng(0)
    ks = (1, 4, 16, 64)
    draw = {k: np.sqrt(rng.beta((1 if k_independent else k) / 2, (dim - 1) / 2, draws)) for k in ks}
    return arrays({"estimator/tangents": ks, "estimator/dimension": dim,
                   **{f"estimator/cosine/k{k}": v for k, v in draw.items()}})


def loss_case(ratio: float) -> Callable[[], Results]:
    """Five seeds' validation losses: backprop's around 1, the forward gradient's `ratio` times them."""
    base = np.array([0.9, 1.0, 1.1, 0.95, 1.05])
    return arrays({"backprop/validation_loss": base,
                   "forward k=1/validation_loss": ratio * base * (1 + 0.01 * np.arange(5)),
                   "untrained/validation_loss": 2.3 + 0 * base})


def timing_case(ratio: float) -> Callable[[], Results]:
    """Interleaved rounds of backprop (and its A/A copy) and of a forward step `ratio` times as long."""
    noise = 1 + 0.02 * np.sin(np.arange(15))
    seconds = {"backprop": 0.01 * noise, "backprop" + bench.AA_SUFFIX: 0.01 * noise[::-1],
               "forward, tangents drawn ahead": ratio * 0.01 * np.roll(noise, 3)}
    return arrays({f"time/wide/{k}": v for k, v in seconds.items()})


FORWARD = "forward, tangents drawn ahead"

# Tolerances, fixed from the estimators' laws before any run: the projection's standard deviation is sqrt(2)
# (chi^2_1), so 16384 estimates give a 95% half-width of ~0.02: near(1, 0.1) asks the mean within 10% of 1
# (half estimator: 0.5). The squared bias B has, without bias, standard deviation
# sqrt(2 (n + 3)(N + n + 5) / N^3): 0.0048 at the quick preset (n = 2698, N = 16384), 0.0017 at the paper's
# (n = 78858, N = 262144). The bound 0.15^2 = 0.0225 (bias under 15% of |grad f|) is then cleared by an
# unbiased estimator with probability 0.996 (quick) and ~1 (paper), and a bias of 0.3 |grad f| (B = 0.09)
# lies 14 (quick) and 35 (paper) standard deviations above it. The cosine law: N / k estimates per k give
# per-k half-widths of ~0.01-0.03 of the law.
CLAIMS = [
    Claim(
        statement="no bias along grad f: each one-tangent estimate's projection <g_i, grad f> / |grad f|^2 has mean 1 "
        "(a bias orthogonal to grad f does not move it)",
        paper="E[g] = grad f (Theorem 1)",
        measure=projection(),
        region=near(1.0, 0.1),
        control=Control(
            name="half estimator g / 2 (same tangents)",
            results=arrays({"estimator/projection": chi2_projections(0.5)}),
        ),
        passing=arrays({"estimator/projection": chi2_projections()}),
        baseline=projection(EstimatorCase(scale=0.5)),
        fmt="{:.3f}",
    ),
    Claim(
        statement="no bias in any direction: the mean of N one-tangent estimates is within 0.15 |grad f| of grad f "
        "(squared bias |mean - grad f|^2 / |grad f|^2 - (n + 1) / N, unbiased for |E g - grad f|^2 / |grad f|^2; "
        "interval with the factor (grad f . v_i)^2 each estimate's coordinates share)",
        paper="E[g] = grad f",
        measure=squared_bias(),
        region=at_most(0.15**2),
        control=Control(
            name="an estimator biased by 0.3 |grad f| orthogonally to grad f (same tangents)",
            results=mean_estimate_case(0.3),
        ),
        passing=mean_estimate_case(0.0),
        baseline=squared_bias(ESTIMATOR_CASES["biased by 0.3 |grad f| orthogonally to grad f"]),
        fmt="{:.4f}",
    ),
    Claim(
        statement="the cosine with grad f follows the exact law E cos = G((k+1)/2) G((n+k-1)/2) / (G(k/2) G((n+k)/2)) "
        "at every k (measured / law; ~ (1 + (n+1)/k)^(-1/2) at large n, k)",
        paper="1",
        measure=cosine_over_law(),
        region=near(1.0, 0.1),
        control=Control(name="k-independent estimator (k = 1's cosines at every k)", results=cosine_case(True)),
        passing=cosine_case(False),
        baseline=cosine_over_law(lambda k: "estimator/cosine/k1"),
        fmt="{:.3f}",
    ),
    Claim(
        statement="a forward-gradient step (k=1, tangents drawn ahead) is faster than a backprop step by 10% or more, at "
        "the wide width (time ratio, interleaved rounds, A/A-widened)",
        paper="up to 2x faster (0.5)",
        measure=step_time_ratio(FORWARD),
        region=below(0.9),
        control=Control(name="backprop against itself (A/A)", results=timing_case(1.0)),
        passing=timing_case(0.5),
        baseline=step_time_ratio("backprop" + bench.AA_SUFFIX),
        fmt="{:.3f}",
    ),
    Claim(
        statement="forward gradient (k=1) reaches backprop's validation loss in the same steps, each at its tuned lr "
        "(per-seed loss ratio)",
        paper="comparable",
        measure=loss_ratio("forward k=1"),
        region=at_most(1.1),
        control=Control(name="untrained network (its initial validation loss)", results=loss_case(2.3)),
        passing=loss_case(1.0),
        baseline=loss_ratio("untrained"),
        fmt="{:.3f}",
    ),
]


if __name__ == "__main__":
    main(NAME)
