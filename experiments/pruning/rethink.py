"""Rethinking the value of network pruning (Liu et al. 2019, arXiv 1810.05270): fine-tuning
against Scratch-E and Scratch-B, each arm's lr (and fine-tuning's length) tuned on a validation split.

    python run.py prune-rethink --preset quick                     # MLP on MNIST-1D
    python run.py prune-rethink --preset equivalence               # quick with the seeds TOST needs
    python run.py prune-rethink --preset paper --data-dir DATA     # small VGG-style CNN, CIFAR-10

Liu et al. train a large model, prune it, and compare fine-tuning the survivors with training the
pruned architecture from scratch for the same epochs (Scratch-E) or the same compute (Scratch-B:
epochs x FLOPs_full / FLOPs_pruned): with L1-norm filter pruning Scratch-E/B match or beat
fine-tuning (CIFAR-10 VGG-16-A: 93.41 fine-tuned, 93.62 E, 93.78 B); with unstructured magnitude
pruning Scratch-E lags at high sparsity and Scratch-B roughly matches. Protocol (Sec. 4, scaled
down): the step schedule (lr x0.1 at 50% and 75%); unstructured: one magnitude threshold, the
classifier dense (`scope`, as `weight-level/cifar_prune.py`); the paper's fine-tuning (final lr,
1/4 of the steps) shown beside. Every arm gets the same trials: its grid plus up to `max_widenings`.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import config as checks
from common import experiment, plots, records, stats, tuning
from common.parallel import map_independent
from common.train import fold_in_each, seed_keys
from experiments.api import main
from experiments.pruning._fits import Run, Trainer, fit_members, members_of, trainer
from research.pruning import pruned
from research.pruning.flops import network_flops, weight_positions
from research.pruning.intervals import accuracy_interval
from research.pruning.masks import SCOPES
from research.pruning.programs import host, initializer, make_model, ones_like, pruned_widths
from research.pruning.protocol import protocol_optimizer
from research.pruning.pruned import Large, Pruned

NAME = "prune-rethink"
STUDY = "pruning"
PAPER = "Liu et al. 2019, Rethinking the Value of Network Pruning (ICLR)"
REPRODUCES = ("Tables 1-4 protocol: fine-tuned vs Scratch-E vs Scratch-B after structured "
              "(L1-norm) and unstructured (magnitude) pruning; CIFAR-10 VGG-16-A 93.41/93.62/93.78")

PAPER_FINETUNE_LR_FACTOR = 0.01  # the schedule's final lr: x0.1 at each of its two milestones
# "Matches": two one-sided tests inside +-2 points, about one per-seed spread here, as Liu et al.'s
# "comparable" few tenths are at their spread (docs/claims/pruning.md). The quick run's largest
# per-seed spread of a paired difference, and the seeds that gives two one-sided tests 80% power.
MATCH_MARGIN = 0.02
EQUIVALENCE_SPREAD = 0.038
EQUIVALENCE_SEEDS = stats.seeds_for_equivalence(EQUIVALENCE_SPREAD, MATCH_MARGIN)


@dataclass(frozen=True)
class Config:
    """Train large, prune, then tuned fine-tuning vs tuned Scratch-E vs Scratch-B (test accuracy)."""

    seeds: int = 5
    """Independent seeds, every one in the same vmapped program."""
    dataset: Literal["mnist1d", "cifar10"] = "mnist1d"
    """The data set: MNIST-1D comes with the install; CIFAR-10 is read from --data-dir."""
    models: tuple[str, ...] = ("mlp", "cnn")
    """Which of "mlp" and "cnn" to prune."""
    mlp_widths: tuple[int, ...] = (100, 100)
    """Hidden widths of the large MLP."""
    cnn_channels: tuple[int, ...] = (16, 16, 16)
    """Channels of the large CNN's convolutions (stride 2 each)."""
    cnn_kernel: int = 5
    """Kernel size of the CNN's convolutions."""
    steps: int = 600
    """Steps of the large model and of Scratch-E (the paper's 160 epochs); fine-tuning's longest."""
    batch_size: int = 100
    """Examples per minibatch."""
    optimizer: Literal["sgd", "adam"] = "adam"
    """Every run's optimizer (SGD with momentum 0.9, or Adam), with the run's own step schedule."""
    learning_rate: float = 1e-2
    """Peak lr of the large model; the lr grids are multiples of it."""
    finetune_lr_factors: tuple[float, ...] = (0.01, 0.1, 1.0)
    """Fine-tuning's constant lr grid / peak lr (0.01 is the paper's, 1.0 the peak)."""
    paper_finetune_fraction: float = 0.25
    """The paper's fine-tuning length / steps (40 of 160 epochs), shown beside the tuned one."""
    scratch_lr_factors: tuple[float, ...] = (0.5, 1.0, 2.0)
    """Scratch-E/B's peak lr grid / peak lr (as many trials as fine-tuning's grid)."""
    max_widenings: int = 2
    """Times an arm's lr grid is widened past an edge choice (`common.tuning.tune`)."""
    validation_fraction: float = 0.15
    """Share of the training data held out to choose lrs and lengths."""
    weight_decay: float = 0.0
    """L2 weight decay added to every gradient (Liu et al.: 1e-4 with SGD)."""
    structured_ratios: tuple[float, ...] = (0.5, 0.75)
    """Fraction of each hidden layer's neurons / filters removed (L1-norm)."""
    sparsities: tuple[float, ...] = (0.3, 0.6, 0.9)
    """Unstructured magnitude sparsities (of the pruned weight matrices)."""
    scope: Literal["global-dense-classifier", "global", "layer"] = "global-dense-classifier"
    """Unstructured: one threshold over all weight matrices but the classifier (Liu et al.'s code),
    over all of them, or each layer on its own."""
    scratch_b_max_factor: float | None = 2.0
    """Cap on Scratch-B's step multiplier FLOPs_full / FLOPs_pruned (None: the full ratio)."""
    chunk: int = 100
    """Steps per compiled lax.scan; every budget is rounded to a multiple of it."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        checks.require_numbers_representable(self)
        checks.require_distinct(self, ('models', 'structured_ratios', 'sparsities'))
        checks.require_at_least_one(self, ("seeds", "steps", "batch_size", "chunk", "cnn_kernel", "mlp_widths",
                                    "cnn_channels"))
        if not set(self.models) <= {"mlp", "cnn"} or not self.models:
            raise ValueError(f"models must be a non-empty subset of mlp, cnn (got {self.models})")
        checks.require_in_range(self, ("structured_ratios", "sparsities"), 0.0, 1.0, open_low=True, open_high=True)
        checks.require_in_range(self, ("paper_finetune_fraction",), 0.0, 1.0, open_low=True)
        checks.require_in_range(self, ("validation_fraction",), 0.0, 1.0, open_low=True, open_high=True)
        checks.require_positive(self, ("learning_rate", "finetune_lr_factors", "scratch_lr_factors"))
        checks.require_non_negative(self, ("weight_decay", "max_widenings"))
        if self.scratch_b_max_factor is not None and self.scratch_b_max_factor < 1.0:
            raise ValueError(f"scratch_b_max_factor must be >= 1 (got {self.scratch_b_max_factor})")
        if self.steps < self.chunk:
            raise ValueError(f"steps ({self.steps}) must be at least chunk ({self.chunk})")
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES} (got {self.scope})")

    def finetune_grid(self) -> tuple[float, ...]:
        """Fine-tuning lr factors, the paper's always among them."""
        return tuple(dict.fromkeys((PAPER_FINETUNE_LR_FACTOR, *self.finetune_lr_factors)))

    def unused_fields(self) -> dict[str, str]:
        unused = {}
        if "cnn" not in self.models:
            unused |= {f: "--models leaves out cnn, so no CNN is built" for f in ("cnn_channels", "cnn_kernel")}
        if "mlp" not in self.models:
            unused["mlp_widths"] = "--models leaves out mlp, so no MLP is built"
        return unused

    def data_use(self) -> experiment.DataUse:
        return experiment.DataUse(self.dataset, {"batch_size": self.batch_size})


PRESETS = {
    # The MLP at two sparsities (CNN: the large preset).
    "quick": Config(models=("mlp",), sparsities=(0.5, 0.9)),
    # quick with the seeds that two one-sided tests need at MATCH_MARGIN (docs/claims/pruning.md).
    "equivalence": Config(models=("mlp",), sparsities=(0.5, 0.9), seeds=EQUIVALENCE_SEEDS),
    # MNIST-1D at GPU size: 10 seeds, wider nets, five times the steps, Scratch-B's full budget.
    "large": Config(seeds=10, mlp_widths=(300, 300), cnn_channels=(32, 32, 32), steps=3000, chunk=250,
                    scratch_b_max_factor=None),
    "paper": Config(dataset="cifar10", models=("cnn",), cnn_channels=(64, 128, 256, 256),
                    cnn_kernel=3, steps=8000, batch_size=128, optimizer="sgd",
                    learning_rate=0.05, weight_decay=1e-4, chunk=200,
                    scratch_b_max_factor=None),
}

TABLE = "Test accuracy (mean +- std over seeds), each method at its chosen lr and length"
GRIDS = "Validation accuracy over the grids (the choice marked)"
CHOICES = "Each arm's tuning: choice, widenings, edge and budget (trials x steps)"
PAPER_ROW = "fine-tuned (paper: final lr, 1/4 length)"


def budget(config: Config, multiplier: float) -> int:
    """`steps x multiplier`, rounded to whole chunks (at least one)."""
    return max(1, round(config.steps * multiplier / config.chunk)) * config.chunk


def scratch_b_steps(config: Config, p: Pruned) -> int:
    """Scratch-B's steps: steps x FLOPs_full / FLOPs_pruned (Liu et al. Sec. 4), the factor capped if set."""
    ratio = p.large_flops / p.flops
    return budget(config, ratio if config.scratch_b_max_factor is None else min(ratio, config.scratch_b_max_factor))


class Method(NamedTuple):
    """One way to retrain a pruned network: where it starts, its schedule, its lr grid and length."""

    label: str
    start: str  # the Pruned field it starts from
    decays: bool  # the step schedule (training) or a constant lr (fine-tuning)
    fixed_length: bool  # False: its length is tuned too (evaluated every chunk)
    lr_factors: Callable[[Config], tuple[float, ...]]
    steps: Callable[[Config, Pruned], int]


METHODS = {
    "finetuned": Method("fine-tuned", "survivors", False, False, Config.finetune_grid, lambda c, p: c.steps),
    "scratch_e": Method("scratch-E", "fresh", True, True, lambda c: c.scratch_lr_factors, lambda c, p: c.steps),
    "scratch_b": Method("scratch-B", "fresh", True, True, lambda c: c.scratch_lr_factors, scratch_b_steps),
}


class Retrained(NamedTuple):
    """Every method's tuning for one pruned network, and the paper's fine-tuning protocol."""

    pruned: Pruned
    tuned: dict[str, tuning.Tuned]  # by METHODS key
    paper: tuning.Tuned  # fine-tuning at the final lr of the large model's schedule, the paper's length


class Accuracies(NamedTuple):
    """Per-seed test accuracy (settings, seeds) of each way to retrain, each at its choice, and
    whether each tuned method's choice is still on an edge of its widened grid (settings,)."""

    not_retrained: np.ndarray
    finetuned_paper: np.ndarray
    finetuned: np.ndarray
    scratch_e: np.ndarray
    scratch_b: np.ndarray
    finetuned_edge: np.ndarray
    scratch_e_edge: np.ndarray
    scratch_b_edge: np.ndarray


class Choice(NamedTuple):
    """One arm's choice on validation, for results.json."""

    learning_rate: float
    step: int
    trials: int
    widenings: int
    on_edge: bool
    budget: int  # trials x steps


class Trained(NamedTuple):
    scores: tuning.Scores  # every run's validation and test accuracy
    params: dict  # final params, runs x seeds leading


class Rerun(NamedTuple):
    scratch_e: np.ndarray  # Scratch-E again at its chosen lr, other batches (settings, seeds): an A/A control


class FinetuneCurves(NamedTuple):
    eval_step: np.ndarray  # (points,)
    val_curve: np.ndarray  # validation accuracy at the chosen lr, (settings, points, seeds)


# ---------------------------------------------------------------- training

def trainers(config: Config, split: tuning.Split, session) -> Callable:
    """trainer_of(model): one Trainer (one compiled step) per model object, made at its first use."""
    optimizer, made = protocol_optimizer(config.optimizer, config.weight_decay), {}
    evaluation = {"val_accuracy": (split.x_val, split.y_val), "accuracy": (split.x_test, split.y_test)}

    def trainer_of(model) -> Trainer:
        if id(model) not in made:
            made[id(model)] = trainer(model, optimizer, (split.x_fit, split.y_fit), evaluation, config.batch_size,
                                      config.chunk, session)
        return made[id(model)]

    return trainer_of


def train_runs(config: Config, trainer: Trainer, name: str, runs: list[Run], eval_every: int | None,
               first_key: int = 0) -> Trained:
    """Validation and test accuracy (runs, points, seeds) of every run, evaluated every `eval_every`
    steps (None: at the end); all runs x seeds one vmapped program; run i's batches from key first_key + i."""
    n = config.seeds
    keys = jnp.concatenate([fold_in_each(seed_keys(config.seed, n), first_key + i) for i in range(len(runs))])
    out = fit_members(trainer, name, members_of(runs, n), keys, max(r.steps for r in runs), eval_every)
    shape = lambda a: a.reshape(a.shape[0], len(runs), n).transpose(1, 0, 2)
    return Trained(tuning.Scores([r.lr for r in runs], out.history["eval_step"], shape(out.curve("eval/val_accuracy")),
                                 shape(out.curve("eval/accuracy"))), host(out.state.params))


def model_of(config: Config, kind: str, num_classes: int, widths=None):
    return make_model(kind, widths or {"mlp": config.mlp_widths, "cnn": config.cnn_channels}[kind], num_classes,
                      config.cnn_kernel)


def train_large(config: Config, kind: str, trainer_of: Callable, num_classes: int, split: tuning.Split) -> Large:
    """Stage 1: the large model, at the peak lr with the step schedule."""
    seeds, x1 = seed_keys(config.seed, config.seeds), split.x_fit[:1]
    model = model_of(config, kind, num_classes)
    init_params = host(initializer(model)(seeds, x1))
    one = jax.tree.map(lambda a: a[0], init_params)
    positions = weight_positions(lambda p, x: model.apply(p, {}, x)[0], one, x1)
    trained = train_runs(config, trainer_of(model), f"{kind}/large", [
        Run(init_params, ones_like(init_params), config.learning_rate, config.steps, True)], None)
    return Large(kind, model, trained.params, trained.scores.test[0, -1], one, positions,
                 network_flops(one, positions))


def prune(config: Config, large: Large, num_classes: int, split: tuning.Split) -> list[Pruned]:
    """Stage 2: every unstructured sparsity (one fresh init serves them all) and structured ratio."""
    keys, x1 = seed_keys(config.seed, config.seeds), split.x_fit[:1]
    fresh = host(initializer(large.model)(fold_in_each(keys, 2), x1))
    smalls = {r: model_of(config, large.kind, num_classes, pruned_widths(large.example, r))
              for r in config.structured_ratios}
    return ([pruned.structured(large, smalls[r], r, keys, x1, split.x_test, split.y_test)
             for r in config.structured_ratios]
            + [pruned.unstructured(large, s, config.scope, fresh, split.x_test, split.y_test)
               for s in config.sparsities])


def tune_arm(config: Config, trainer_of: Callable, p: Pruned, key: str) -> tuning.Tuned:
    """Stage 3: one method on one pruned network, its lr (and length) tuned on validation."""
    method, s = METHODS[key], p.setting
    name = f"{s.model}/{s.kind}{s.amount:g}/{method.label}"

    def scores_on(lrs: tuple[float, ...]) -> tuning.Scores:
        runs = [Run(getattr(p, method.start), p.masks, lr, method.steps(config, p), method.decays) for lr in lrs]
        return train_runs(config, trainer_of(p.model), f"{name}/lr{lrs[0]:g}" + ("+" if len(lrs) > 1 else ""),
                          runs, None if method.fixed_length else config.chunk).scores

    return tuning.tune(scores_on, [config.learning_rate * f for f in method.lr_factors(config)],
                       max_widenings=config.max_widenings, fixed_length=method.fixed_length)


def rerun_scratch_e(config: Config, trainer_of: Callable, p: Pruned, tuned: tuning.Tuned) -> np.ndarray:
    """Scratch-E again at its chosen lr with other batches (seeds,): the A/A control of its comparison."""
    again = Run(p.fresh, p.masks, tuned.value, config.steps, True)
    return train_runs(config, trainer_of(p.model), f"{p.setting.model}/{p.setting.kind}{p.setting.amount:g}/rerun",
                      [again], None, first_key=1000).scores.test[0, -1]


def paper_protocol(config: Config, finetuned: tuning.Tuned) -> tuning.Tuned:
    """The fine-tuning grid's point at the paper's lr (0.01 x peak) and length (1/4 of steps)."""
    scores = finetuned.scores
    index = scores.values.index(float(config.learning_rate * PAPER_FINETUNE_LR_FACTOR))
    point = scores.steps.index(budget(config, config.paper_finetune_fraction))
    return tuning.Tuned(finetuned.name, scores, scores.values[index], scores.steps[point], index, point, 0, None)


# ---------------------------------------------------------------- the experiment

def run(config: Config, session) -> experiment.Results:
    data = session.dataset(config.dataset)
    split = tuning.split(data, config.validation_fraction, config.seed)
    trainer_of = trainers(config, split, session)
    larges = map_independent(functools.partial(train_large, config, trainer_of=trainer_of,
                                               num_classes=data.num_classes, split=split), config.models)
    prunings = [p for large in larges for p in prune(config, large, data.num_classes, split)]
    for p in prunings:  # each architecture's trainer made here, once, not in two threads at a time
        trainer_of(p.model)
    arms = [(p, key) for p in prunings for key in METHODS]
    tuned = map_independent(lambda arm: tune_arm(config, trainer_of, *arm), arms)
    by_pruned = [dict(zip(METHODS, tuned[i:i + len(METHODS)])) for i in range(0, len(tuned), len(METHODS))]
    retrained = [Retrained(p, t, paper_protocol(config, t["finetuned"])) for p, t in zip(prunings, by_pruned)]
    results = _results(config, larges, retrained, len(split.y_test))
    records.put(results, "high_rerun", Rerun(np.stack([rerun_scratch_e(config, trainer_of, r.pruned, r.tuned["scratch_e"])
                                                       for r in retrained if is_high(config, r.pruned)])))
    return results


def is_high(config: Config, p: Pruned) -> bool:
    return p.setting.kind == "unstructured" and p.setting.amount == max(config.sparsities)


def accuracies(retrained: list[Retrained]) -> Accuracies:
    def stack(read):
        return np.stack([read(r) for r in retrained])
    return Accuracies(stack(lambda r: r.pruned.not_retrained), stack(lambda r: r.paper.test_at_choice()),
                      *[stack(lambda r, k=key: r.tuned[k].test_at_choice()) for key in METHODS],
                      *[stack(lambda r, k=key: float(r.tuned[k].edge is not None)) for key in METHODS])


def _results(config: Config, larges: list[Large], retrained: list[Retrained], n_test: int) -> experiment.Results:
    results = experiment.Results()
    results.tables[TABLE] = [row for large in larges for row in _large_rows(config, large, n_test)] + [
        row for r in retrained for row in _setting_rows(config, r, n_test)]
    results.tables[GRIDS], results.tables[CHOICES] = [], []
    for r in retrained:
        for key, method in METHODS.items():
            arm, t = f"{r.pruned.setting.label()} {method.label}", r.tuned[key]
            choice = Choice(t.value, t.step, len(t.scores.values), t.widenings, t.edge is not None, t.budget)
            records.put(results, records.key(r.pruned.setting.label(), key), choice)
            results.tables[GRIDS] += t.rows(arm)
            results.tables[CHOICES].append({"arm": arm, **choice._asdict(), "edge": t.edge or ""})
    kinds = {kind: [r for r in retrained if r.pruned.setting.kind == kind] for kind in ("structured", "unstructured")}
    kinds["high"] = [r for r in retrained if is_high(config, r.pruned)]
    for kind, chosen in kinds.items():
        records.put(results, kind, accuracies(chosen))
    ft = [r.tuned["finetuned"] for r in retrained]
    records.put(results, "finetune", FinetuneCurves(np.array(ft[0].scores.steps),
                                                    np.stack([t.scores.validation[t.index] for t in ft])))
    cap = "uncapped" if config.scratch_b_max_factor is None else f"capped at {config.scratch_b_max_factor:g}x"
    results.notes += [
        f"Unstructured scope: {config.scope}. Scratch-B's budget: FLOPs_full / FLOPs_pruned x steps, {cap}.",
        (f"Each arm starts from {len(config.finetune_grid())} lrs (fine-tuning {config.finetune_grid()}, Scratch-E/B "
         f"{config.scratch_lr_factors} x the peak lr {config.learning_rate:g}), widened up to {config.max_widenings} "
         f"times past an edge choice, chosen by mean validation accuracy on {config.validation_fraction:.0%} of the "
         "training data; fine-tuning's length is chosen too (every chunk up to steps)."),
        (f"Accuracy intervals in the table: t over seeds combined with the test set's own sampling noise "
         f"(Wilson, {n_test} examples). Claims compare two arms on the same test examples and seeds: "
         "paired differences, t over seeds."),
    ]
    return results


def _large_rows(config: Config, large: Large, n_test: int) -> list[dict]:
    return [{"model": large.kind, "pruning": "none (large model)", "variant": "trained", "lr": config.learning_rate,
             "steps": config.steps, "FLOPs % of large": 100.0, "val accuracy": float("nan"),
             "test accuracy": float(np.mean(large.accuracy)), "std": float(np.std(large.accuracy)),
             "95% interval": f"{accuracy_interval(large.accuracy, n_test):.3g}"}]


def _setting_rows(config: Config, r: Retrained, n_test: int) -> list[dict]:
    p = r.pruned
    columns = {"model": p.setting.model, "pruning": f"{p.setting.kind} {p.setting.amount:.0%}",
               "architecture": "-".join(map(str, p.architecture)),
               "FLOPs % of large": round(100 * p.flops / p.large_flops, 1)}

    def row(variant, lr, steps, val, test):
        return {**columns, "variant": variant, "lr": lr, "steps": steps, "val accuracy": val,
                "test accuracy": float(np.mean(test)), "std": float(np.std(test)),
                "95% interval": f"{accuracy_interval(test, n_test):.3g}"}

    def tuned_row(variant, t: tuning.Tuned, steps):
        return row(variant, t.value, steps, float(np.mean(t.scores.validation[t.index, t.point])), t.test_at_choice())

    return [row("pruned, not retrained", 0.0, 0, float("nan"), p.not_retrained),
            tuned_row(PAPER_ROW, r.paper, r.paper.step),
            *[tuned_row(f"{method.label} (tuned)", r.tuned[key],
                        r.tuned[key].step if not method.fixed_length else method.steps(config, p))
              for key, method in METHODS.items()]]


def figures(results: experiment.Results, directory) -> None:
    rows = results.tables[TABLE]
    settings = list(dict.fromkeys((r["model"], r["pruning"]) for r in rows if r["variant"] != "trained"))
    fig, axes = plots.new_figure(ncols=2, width=5.5)
    ax = axes[0, 0]
    variants = [v for v in dict.fromkeys(r["variant"] for r in rows) if v != "trained"]
    x = np.arange(len(settings))
    width = 0.8 / len(variants)
    for j, v in enumerate(variants):
        got = [next(r for r in rows if (r["model"], r["pruning"]) == s and r["variant"] == v) for s in settings]
        ax.bar(x + (j - len(variants) / 2 + 0.5) * width, [g["test accuracy"] for g in got], width,
               yerr=[g["std"] for g in got], label=v.replace(PAPER_ROW, "fine-tuned (paper)"), capsize=2)
    low = min(r["test accuracy"] for r in rows if r["variant"] != "pruned, not retrained")
    ax.set_ylim(max(0.0, low - 0.1), 1.0)
    ax.set_xticks(x, [f"{m} {p}".replace("structured", "str.") for m, p in settings], rotation=40, ha="right")
    ax.set(ylabel="test accuracy", title="pruned, then retrained (tuned on validation)")
    ax.legend(fontsize=6, ncol=2, loc="upper right")
    ax = axes[0, 1]
    curves = records.get(results, "finetune", FinetuneCurves)
    for s, curve in zip(settings, curves.val_curve):
        plots.seed_band(ax, curves.eval_step, curve, f"{s[0]} {s[1]}")
    paper_steps = next(r["steps"] for r in rows if r["variant"] == PAPER_ROW)
    ax.axvline(paper_steps, color="k", ls=":", lw=1, label="paper's length")
    ax.set(xlabel="fine-tuning step", ylabel="validation accuracy", title="fine-tuning at its chosen lr")
    ax.legend(fontsize=6)
    plots.save(fig, directory, "finetune_vs_scratch", **results.arrays)


# ---------------------------------------------------------------- claims

def arms_of(r: experiment.Results, kind: str, *methods: str) -> Accuracies:
    """The kind's accuracies; experiment.Undecided when a compared arm's lr is still on an edge of its widened grid."""
    got = records.get(r, kind, Accuracies)
    for method in methods:
        edges = np.asarray(getattr(got, f"{method}_edge"), bool)
        if edges.any():
            raise experiment.Undecided(f"{METHODS[method].label}'s lr is still on an edge of its widened grid in {edges.sum()} "
                            f"of {edges.size} {kind} setting(s) (see the tuning table): the grid decides")
    return got


def lags(kind: str, a: str, b: str):
    """a - b > 0 in every setting: the smallest paired difference over settings (t over seeds)."""
    def measure(r: experiment.Results) -> stats.Measurement:
        got = arms_of(r, kind, a, b)
        return stats.smallest(*[stats.paired_difference(x, y) for x, y in zip(getattr(got, a), getattr(got, b))])
    return measure


def matches(kind: str, a: str, b: str, baseline: str | None = None):
    """a matches b within +-MATCH_MARGIN in every setting: two one-sided tests per setting (the paired
    difference's 90% t interval), their hull; not run when this run has fewer seeds than the tests
    need at its per-seed spread (stats.seeds_for_equivalence). `baseline`: that arm in a's place."""
    def measure(r: experiment.Results) -> stats.Measurement:
        got = arms_of(r, kind, a, b) if baseline is None else records.get(r, kind, Accuracies)
        x, y = getattr(got, baseline or a), getattr(got, b)
        needed = max(stats.seeds_for_equivalence(float(np.std(d, ddof=1)), MATCH_MARGIN) for d in x - y)
        if baseline is None and x.shape[1] < needed:
            raise experiment.NotRunAtPreset("equivalence", f"two one-sided tests at +-{MATCH_MARGIN} need {needed} seeds at "
                                 f"this run's per-seed spread, it ran {x.shape[1]}")
        return stats.hull([stats.equivalence(xi, yi, MATCH_MARGIN) for xi, yi in zip(x, y)], 0.0, "settings")
    return measure


def rerun_lag(r: experiment.Results) -> stats.Measurement:
    """The A/A control of `lags`: Scratch-E rerun at its chosen lr with other batches, against itself."""
    got, again = records.get(r, "high", Accuracies), records.get(r, "high_rerun", Rerun)
    return stats.smallest(*[stats.paired_difference(x, y) for x, y in zip(again.scratch_e, got.scratch_e)])


def synthetic(offsets: dict[str, float], seeds: int = EQUIVALENCE_SEEDS, spread: float = EQUIVALENCE_SPREAD,
              edge: str | None = None) -> experiment.Results:
    """Two settings of per-seed accuracies 0.6 + offset[field] + 0.01 x p for every kind, p a pattern of
    mean 0 and std 1 over seeds; the scratch arms also - spread x p, so a paired scratch - fine-tuned
    difference has per-seed spread `spread`; `edge`: that method's choice on an edge."""
    offsets = {"not_retrained": -0.3, "finetuned_paper": -0.1} | offsets
    pattern = np.linspace(-1, 1, seeds) / np.std(np.linspace(-1, 1, seeds), ddof=1)
    results = experiment.Results()
    for kind in ("structured", "unstructured", "high"):
        accuracy = [np.tile(0.6 + offsets.get(f, 0.0) + (0.01 - spread * f.startswith("scratch")) * pattern, (2, 1))
                    for f in Accuracies._fields[:5]]
        records.put(results, kind, Accuracies(*accuracy, *[np.full(2, float(f == f"{edge}_edge"))
                                                           for f in Accuracies._fields[5:]]))
    return results


PAPER_IN_PLACE = "fine-tuning at the paper's final lr and length, in scratch's place"
EQUIVALENCE = (f"two one-sided tests: the 90% t interval over seeds of the paired difference inside "
               f"+-{MATCH_MARGIN} in every setting")


def matching(statement: str, paper: str, kind: str, method: str) -> experiment.Claim:
    return experiment.Claim(statement=f"{statement} ({EQUIVALENCE})", paper=paper, measure=matches(kind, method, "finetuned"),
                 region=experiment.near(0.0, MATCH_MARGIN), control=experiment.Control(name=PAPER_IN_PLACE, results=lambda: synthetic(
                     {method: -0.1})), passing=lambda: synthetic({}),
                 baseline=matches(kind, method, "finetuned", baseline="finetuned_paper"), fmt="{:+.3f}")


CLAIMS = [
    matching("structured (L1-norm): tuned Scratch-B matches tuned fine-tuning", "VGG-16-A: 93.78 vs 93.41",
             "structured", "scratch_b"),
    matching("structured (L1-norm): tuned Scratch-E matches tuned fine-tuning", "VGG-16-A: 93.62 vs 93.41",
             "structured", "scratch_e"),
    experiment.Claim(statement="unstructured, highest sparsity: tuned Scratch-E lags tuned fine-tuning (fine-tuned - E > 0, "
          "worst model, paired t over seeds)", paper="lags on ImageNet; ~matches on CIFAR",
          measure=lags("high", "finetuned", "scratch_e"), region=experiment.above(0.0),
          control=experiment.Control(name="Scratch-E against itself (A/A; run time: rerun with other batches)",
                          results=lambda: synthetic({})),
          passing=lambda: synthetic({"scratch_e": -0.05}), baseline=rerun_lag, fmt="{:+.3f}"),
    matching("unstructured, highest sparsity: tuned Scratch-B roughly matches tuned fine-tuning", "roughly matches",
             "high", "scratch_b"),
]


if __name__ == "__main__":
    main(NAME)
