"""Lottery tickets by iterative magnitude pruning, against random reinit and random masks, at
a small and a large learning rate (Frankle & Carbin 2019; Liu et al. 2019, Sec. 6); and the linear
mode connectivity of the dense network (Frankle et al. 2020). Protocol: docs/notes/pruning.md.

    python run.py prune-lottery --preset quick                     # MLP on MNIST-1D
    python run.py prune-lottery --preset frankle                   # 20% a round, output layer 10%
    python run.py prune-lottery --preset quick --rewind-step 100   # late rewinding
    python run.py prune-lottery --preset paper --data-dir DATA     # small CNN, CIFAR-10
"""

import functools
from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from common import config as checks
from common import plots, records, stats, tuning
from common.experiment import Claim, Control, DataUse, Results, above, at_most, below
from common.parallel import map_independent
from common.train import fold_in_each, seed_keys
from experiments.api import main
from experiments.pruning._fits import Trainer, fit_members, trainers
from research.pruning import lottery_measures as measures
from research.pruning import lottery_study, protocol
from research.pruning.citations import INSTABILITY, LIU_SEC6, TICKETS
from research.pruning.connectivity import STABLE
from research.pruning.lottery import imp_sparsities, random_reinit, round_counts
from research.pruning.lottery_measures import gap, synthetic
from research.pruning.lottery_study import LRS, VARIANTS, Axes, Chain, Dense, Imp
from research.pruning.programs import host, initializer, make_model, ones_like, round_program
from research.pruning.runs import Run, members_of

NAME = "prune-lottery"
STUDY = "pruning"
PAPER = ("Frankle & Carbin 2019 (lottery tickets); Liu et al. 2019, Sec. 6; "
         "Frankle et al. 2020 (linear mode connectivity)")
REPRODUCES = ("test accuracy vs sparsity of IMP winning tickets, random reinit and random masks, "
              "at a small and a large learning rate; the error barrier between two copies vs the rewind step")

MATCH_MARGIN = 0.01  # "no better than reinit": the interval's high end at most +0.01


@dataclass(frozen=True)
class Config:
    """Iterative magnitude pruning with rewinding; controls at two learning rates; mode connectivity."""

    seeds: int = 5
    """Independent seeds, every one in the same vmapped program."""
    dataset: Literal["mnist1d", "cifar10"] = "mnist1d"
    """The data set: MNIST-1D comes with the install; CIFAR-10 is read from --data-dir."""
    model: Literal["mlp", "cnn"] = "mlp"
    """The network pruned: an MLP or a CNN."""
    mlp_widths: tuple[int, ...] = (100, 100)
    """Hidden widths of the MLP."""
    cnn_channels: tuple[int, ...] = (32, 32, 32)
    """Channels of the CNN's convolutions (stride 2 each)."""
    cnn_kernel: int = 5
    """Kernel size of the CNN's convolutions."""
    steps: int = 600
    """Training steps of every round."""
    batch_size: int = 100
    """Examples per minibatch."""
    optimizer: Literal["sgd", "adam"] = "sgd"
    """Every run's optimizer (SGD with momentum 0.9, as Liu et al. Sec. 6, or Adam), with the step schedule."""
    learning_rates: tuple[float, float] = (0.01, 0.1)
    """(small, large) peak learning rates: one IMP chain each (Liu et al. Sec. 6: SGD at 0.01 and 0.1)."""
    validation_fraction: float = 0.15
    """Share of the training data held out for the training criterion (never trained on)."""
    trained_within: float = 0.03
    """A chain's comparisons count only if its dense net's validation accuracy is within this of the better lr's."""
    weight_decay: float = 0.0
    """L2 weight decay added to every gradient."""
    rate: float = 0.2
    """Fraction of the surviving weights pruned per round (Frankle & Carbin: 0.2)."""
    output_rate: float | None = None
    """Per-round rate of the output layer (None: `rate`; Frankle & Carbin: rate / 2; layer scope)."""
    rounds: int = 8
    """Pruning rounds: the hidden layers' last sparsity is 1 - (1 - rate)^rounds."""
    scope: Literal["layer", "global"] = "layer"
    """Magnitude ranking within each layer, or over all weight matrices at once."""
    rewind_step: int = 0
    """Rewind point of the ticket and random mask: 0 the init, k > 0 the dense run's weights after k steps."""
    high_sparsity: float = 0.75
    """Claims average the rounds at or above this (overall) sparsity."""
    lmc_rewind_steps: tuple[int, ...] = (0, 100, 200, 300)
    """Rewind steps at which two copies of the dense network are trained with different data orders."""
    lmc_points: int = 11
    """Points on the line between the two copies (both ends included)."""
    chunk: int = 100
    """Steps per compiled lax.scan (the host sees metrics and may checkpoint once per chunk)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        checks.require_numbers_representable(self)
        checks.require_at_least_one(self, ("seeds", "steps", "batch_size", "rounds", "chunk", "cnn_kernel",
                                           "mlp_widths", "cnn_channels"))
        checks.require_in_range(self, ("rate",), 0.0, 1.0, open_low=True, open_high=True)
        checks.require_in_range(self, ("high_sparsity", "trained_within"), 0.0, 1.0)
        checks.require_in_range(self, ("validation_fraction",), 0.0, 1.0, open_low=True, open_high=True)
        checks.require_non_negative(self, ("weight_decay",))
        if self.output_rate is not None:
            checks.require_in_range(self, ("output_rate",), 0.0, 1.0, open_low=True, open_high=True)
            if self.scope != "layer":
                raise ValueError("output_rate needs scope 'layer' (per-layer rates)")
        if not 0.0 < self.learning_rates[0] < self.learning_rates[1]:
            raise ValueError("learning_rates must be (small, large) with 0 < small < large")
        for k in (self.rewind_step, *self.lmc_rewind_steps):
            if k < 0 or k >= self.steps or k % self.chunk:
                raise ValueError(f"rewind steps must be multiples of chunk ({self.chunk}) in [0, steps) "
                                 f"(rewind_step or lmc_rewind_steps got {k})")
        if len(set(self.lmc_rewind_steps)) < 2:
            raise ValueError("lmc_rewind_steps needs at least two different steps")
        if self.lmc_points < 3:
            raise ValueError(f"lmc_points must be at least 3 (got {self.lmc_points})")
        if self.steps % self.chunk:
            raise ValueError(f"steps ({self.steps}) must be a multiple of chunk ({self.chunk})")
        if max(imp_sparsities(self.rate, self.rounds)) < self.high_sparsity:
            raise ValueError("no round reaches high_sparsity: raise rounds or rate")

    def unused_fields(self) -> dict[str, str]:
        if self.model == "mlp":
            return {f: "--model mlp builds no CNN" for f in ("cnn_channels", "cnn_kernel")}
        return {"mlp_widths": "--model cnn builds no MLP"}

    def data_use(self) -> DataUse:
        return DataUse(self.dataset, {"batch_size": self.batch_size})


PRESETS = {
    "quick": Config(),
    # Frankle & Carbin's schedule: the output layer at half the rate.
    "frankle": Config(output_rate=0.1, rounds=9, high_sparsity=0.8),
    # MNIST-1D at GPU size: LeNet-300-100 widths, 10 seeds, to 99.2% sparsity.
    "large": Config(seeds=10, mlp_widths=(300, 100), steps=3000, rate=0.5, rounds=7, high_sparsity=0.85, chunk=250,
                    lmc_rewind_steps=(0, 250, 500, 1000)),
    "paper": Config(dataset="cifar10", model="cnn", cnn_channels=(64, 128, 256), cnn_kernel=3,
                    steps=4000, batch_size=128, weight_decay=1e-4, output_rate=0.1, rounds=9, high_sparsity=0.8,
                    chunk=200, lmc_rewind_steps=(0, 200, 400, 800)),
}


@dataclass(frozen=True)
class Runner:
    """One model's fits: runs keyed (lr, seed) lr-major, each chain's keys its own."""

    config: Config
    data: object
    model: object
    trainer: Trainer
    seeds: jax.Array
    chain_keys: jax.Array

    def rows(self, lr_index: int) -> slice:
        """The runs of one learning rate in an lr-major axis."""
        return slice(lr_index * self.config.seeds, (lr_index + 1) * self.config.seeds)

    def variant_keys(self, count: int, lr_index: int | None = None):
        """Keys of `count` variants, each over every (lr, seed) run (or the runs of one lr)."""
        base = self.chain_keys if lr_index is None else self.chain_keys[self.rows(lr_index)]
        return jnp.concatenate([fold_in_each(base, t) for t in range(count)])

    def train(self, name: str, variants: list[tuple], lr_index: int):
        """(params, masks) variants at one lr: final test accuracy (variant, seed), the first's params."""
        lr, n = self.config.learning_rates[lr_index], self.config.seeds
        runs = [Run(params, masks, lr, self.config.steps, True) for params, masks in variants]
        out = fit_members(self.trainer, name, members_of(runs, n), self.variant_keys(len(runs), lr_index),
                          self.config.steps)
        params = jax.tree.map(lambda a: a[:n], out.state.params)
        return out.curve("eval/accuracy")[-1].reshape(len(runs), n), host(params)


# ---------------------------------------------------------------- stage 1: the dense run

def train_dense(runner: Runner) -> Dense:
    """The dense run, split at every rewind step (the split changes no number)."""
    c = runner.config
    start = lottery_study.dense_start(runner.model, runner.trainer.optimizer, runner.seeds, runner.variant_keys(1),
                                      runner.data.x_fit[:1], c.learning_rates, c.steps)
    keys, members = start.keys, start.members
    states, begin = {0: start.state}, 0
    for end in sorted({c.rewind_step, *c.lmc_rewind_steps} - {0}) + [c.steps]:
        name = "dense" if end == c.steps else f"dense-to-{end}"
        out = (fit_members(runner.trainer, name, members, keys, end) if begin == 0 else
               fit_members(runner.trainer, name, protocol.continued_members(states[begin]), keys, end - begin,
                           init=protocol.continue_init))
        states[end], begin = out.state, end
    final = {name: out.curve(f"eval/{name}")[-1].reshape(len(c.learning_rates), c.seeds)
             for name in ("accuracy", "val_accuracy")}
    return Dense(keys, states, out.state.params, final["accuracy"], final["val_accuracy"])


# ---------------------------------------------------------------- stage 2: IMP and its controls; 3: the copies

def imp_chain(runner: Runner, dense: Dense, lr_index: int) -> Imp:
    """Every round of the IMP chain of one learning rate."""
    c, rows = runner.config, runner.rows(lr_index)
    one_lr = lambda tree: jax.tree.map(lambda a: np.asarray(a)[rows], tree)  # host: no compile
    rewind, trained = one_lr(dense.states[c.rewind_step].params), one_lr(dense.final)
    masks = ones_like(trained)
    example = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype), trained)
    start, chain_keys = round_program(runner.model, c.scope), runner.chain_keys[rows]
    sparsities, accuracy = [0.0], np.zeros((len(VARIANTS), c.rounds + 1, c.seeds))
    accuracy[:, 0] = dense.accuracy[lr_index]
    for r in range(1, c.rounds + 1):
        new = start(trained, rewind, masks, round_counts(example, c.rate, c.output_rate, c.scope, r),
                    fold_in_each(runner.seeds, 1000 + r), fold_in_each(chain_keys, 2000 + r), runner.data.x_fit[:1])
        masks = host(new.masks)  # host arrays every round: one input sharding, one compile
        accuracy[:, r], trained = runner.train(f"{LRS[lr_index]}/round{r}", [
            (new.ticket, masks), (new.reinit, masks), (new.random_params, new.random_masks)], lr_index)
        sparsities.append(float(np.asarray(new.sparsity)[0]))
    # An A/A control at run time: the last round's random reinit again, from another init.
    again = random_reinit(initializer(runner.model)(fold_in_each(runner.seeds, 5000), runner.data.x_fit[:1]), masks)
    return Imp(accuracy, np.array(sparsities), runner.train(f"{LRS[lr_index]}/reinit-again", [(host(again), masks)],
                                                            lr_index)[0][0])

def train_copy(runner: Runner, keys, state, index: int, k: int):
    """Copy B of rewind step k: the dense run's state at k trained on with another data order (A: the dense run)."""
    copy_keys = fold_in_each(keys, 7000 + index)
    members = protocol.continued_members(state.replace(key=copy_keys))
    return fit_members(runner.trainer, f"lmc-copy-{k}", members, copy_keys, runner.config.steps - k,
                       init=protocol.continue_init).state.params


# ---------------------------------------------------------------- the experiment

def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset)
    split = tuning.split(data, config.validation_fraction, config.seed)
    runner = make_runner(config, split, data.num_classes, session)
    dense = train_dense(runner)
    ks = sorted(set(config.lmc_rewind_steps))
    # The IMP chains and the copies are independent: side by side.
    jobs = [functools.partial(imp_chain, runner, dense, i) for i in range(len(LRS))] + [
        functools.partial(train_copy, runner, dense.keys, dense.states[k], i, k) for i, k in enumerate(ks)]
    done = map_independent(lambda job: job(), jobs)
    alphas = jnp.linspace(0.0, 1.0, config.lmc_points)
    lines = lottery_study.mode_connectivity(runner.model, split.x_test, split.y_test, dense.final, done[len(LRS):],
                                            len(config.learning_rates), config.seeds, alphas)
    chains, axes = lottery_study.collect(done[:len(LRS)], lines, dense.validation, config, ks, alphas)
    results = Results()
    for tag, record in [*chains.items(), ("imp", axes)]:
        records.put(results, tag, record)
    return _report(config, results, len(split.y_test))


def make_runner(config: Config, split: tuning.Split, num_classes: int, session) -> Runner:
    model = make_model(config.model, {"mlp": config.mlp_widths, "cnn": config.cnn_channels}[config.model],
                       num_classes, config.cnn_kernel)
    optimizer, seeds = protocol.protocol_optimizer(config.optimizer, config.weight_decay), seed_keys(config.seed,
                                                                                                   config.seeds)
    trainer = trainers(optimizer, split, config.batch_size, config.chunk, session)(model)
    return Runner(config, split, model, trainer, seeds,
                  jnp.concatenate([fold_in_each(seeds, 100 + i) for i in range(len(config.learning_rates))]))


def _report(config: Config, results: Results, n_test: int) -> Results:
    axes, chains = records.get(results, "imp", Axes), {tag: records.get(results, tag, Chain) for tag in LRS}
    results.tables["Test accuracy by sparsity (mean over seeds; 95% interval: t over seeds and Wilson over the "
                   "test set)"] = lottery_study.accuracy_rows(axes, list(chains.values()), n_test)
    results.tables["Error barrier between two copies (mean +- std over seeds)"] = lottery_study.barrier_rows(
        axes, list(chains.values()))
    results.notes += lottery_study.notes(config, axes, chains)
    return results


def figures(results: Results, directory) -> None:
    fig, grid = plots.new_figure(ncols=2, nrows=2, width=4.6)
    axes = records.get(results, "imp", Axes)
    for (top, bottom), tag, lr in zip(grid.T, LRS, axes.learning_rates):
        chain = records.get(results, tag, Chain)
        for v, label in VARIANTS.items():
            plots.seed_band(top, 100 * (1 - axes.sparsity), getattr(chain, v), label, marker="o", ms=3)
        top.set_xscale("log")
        top.invert_xaxis()
        top.set(xlabel="weights remaining (%)", ylabel="test accuracy", title=f"IMP, lr {lr:g}")
        top.legend()
        for k, err in zip(axes.lmc_rewind_steps, chain.lmc_error):
            plots.seed_band(bottom, axes.lmc_alphas, err, f"rewind step {int(k)}")
        bottom.set(xlabel="alpha (copy A -> copy B)", ylabel="test error", title=f"two copies, lr {lr:g}")
        bottom.legend(fontsize=7, title=f"independent inits: barrier {np.mean(chain.independent_barrier):.2f}",
                      title_fontsize=7)
    plots.save(fig, directory, "accuracy_vs_sparsity", **results.arrays)


# ---------------------------------------------------------------- claims

CLAIMS = [
    Claim(statement="small lr, high sparsity: the rewound ticket beats random reinit (per-seed gap over the "
          "high-sparsity rounds, t interval)", paper="ticket > reinit", where=TICKETS,
          measure=gap("small_lr", "random_reinit"), region=above(0.0), control=Control(
              name=f"the ticket against itself (A/A; run time: {measures.REINIT_AA})", results=lambda: synthetic()),
          passing=lambda: synthetic({"small_lr": 0.05}), baseline=measures.reinit_against_itself, fmt="{:+.3f}"),
    Claim(statement="small lr, high sparsity: the ticket beats a random mask", paper="ticket > random", where=TICKETS,
          measure=gap("small_lr", "random_mask"), region=above(0.0), control=Control(
              name=f"the random mask against itself (A/A; run time: {measures.REINIT_AA})",
              results=lambda: synthetic(mask_offset=0.0)),
          passing=lambda: synthetic({"small_lr": 0.05}), baseline=measures.reinit_against_itself, fmt="{:+.3f}"),
    Claim(statement="Liu et al. Sec. 6: the ticket's edge over reinit shrinks at the larger lr (paired over seeds)",
          paper="shrinks", where=LIU_SEC6, measure=measures.gap_shrink, region=above(0.0), control=Control(
              name="the same lr twice (A/A; run time: small lr, last-round edge over its reinit minus over a 2nd)",
              results=lambda: synthetic({"small_lr": 0.05, "large_lr": 0.05})), fmt="{:+.3f}",
          passing=lambda: synthetic({"small_lr": 0.05, "large_lr": 0.0}), baseline=measures.reinit_against_itself),
    Claim(statement=f"Liu et al. Sec. 6: at the larger lr the ticket is no better than reinit (interval's high "
          f"end <= +{MATCH_MARGIN})", paper="no better", where=LIU_SEC6, measure=gap("large_lr", "random_reinit"),
          region=at_most(MATCH_MARGIN), control=Control(
              name="a ticket ahead (run time: the small lr's ticket over reinit, where the paper's ticket wins)",
              results=lambda: synthetic({"large_lr": 0.05})), fmt="{:+.3f}",
          passing=lambda: synthetic({"small_lr": 0.05, "large_lr": -0.01}), baseline=measures.small_lr_edge),
    Claim(statement="Frankle et al. 2020: the error barrier between two copies falls as the rewind step grows "
          "(first minus last rewind step, larger lr, paired over seeds)", paper="falls to ~0 by early training",
          where=INSTABILITY, measure=measures.large_lr_barriers(lambda b: stats.paired_difference(b[0], b[-1])),
          region=above(0.0), control=Control(name="the same rewind step twice (A/A; run time: the first step's "
                                             "barriers against themselves, seeds rotated by one)",
                                             results=lambda: synthetic(barriers=(0.05, 0.05))),
          passing=lambda: synthetic(barriers=(0.1, 0.0)), baseline=measures.barrier_against_itself, fmt="{:+.4f}"),
    Claim(statement=f"Frankle et al. 2020: the small dense net is stable at init (barrier at step 0 below "
          f"{STABLE:.0%}, larger lr)", paper="LeNet on MNIST: stable at step 0", where=INSTABILITY,
          measure=measures.large_lr_barriers(lambda b: stats.mean(b[0])), region=below(STABLE),
          control=Control(name="two independently initialised networks",
                          results=lambda: synthetic(barriers=(0.3, 0.3))),
          passing=lambda: synthetic(barriers=(0.005, 0.0)), baseline=measures.independent_barrier, fmt="{:.4f}"),
]


if __name__ == "__main__":
    main(NAME)
