"""Rethinking the value of network pruning (Liu et al. 2019, arXiv 1810.05270): fine-tuning against
Scratch-E and Scratch-B, each arm's lr (and fine-tuning's length) tuned on a validation split, every arm
with the same trials (its grid plus up to `max_widenings`), counted once it and the large model trained
(research/pruning/criterion.py). Protocol: docs/notes/pruning.md.

    python run.py prune-rethink --preset quick                     # MLP on MNIST-1D
    python run.py prune-rethink --preset equivalence               # quick with the seeds TOST needs
    python run.py prune-rethink --preset paper --data-dir DATA     # small VGG-style CNN, CIFAR-10
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import jax.numpy as jnp
import numpy as np

from common import config as checks
from common import plots, records, tuning
from common.experiment import Claim, Control, DataUse, Results, above, near
from common.parallel import map_independent
from common.train import fold_in_each, seed_keys
from experiments.api import main
from experiments.pruning._fits import Trainer, fit_members, trainers
from research.pruning import rethink_measures as measures
from research.pruning import rethink_study
from research.pruning.citations import L1_NORM, UNSTRUCTURED
from research.pruning.criterion import read_curve
from research.pruning.flops import network_flops
from research.pruning.masks import SCOPES
from research.pruning.programs import host, make_model, ones_like
from research.pruning.protocol import protocol_optimizer
from research.pruning.pruned import Large, Pruned
from research.pruning.rethink_measures import EQUIVALENCE_SEEDS, MATCH_MARGIN, synthetic
from research.pruning.rethink_study import LABELS, FinetuneCurves, Method, Rerun, Retrained, Trained
from research.pruning.runs import Run, members_of

NAME = "prune-rethink"
STUDY = "pruning"
PAPER = "Liu et al. 2019, Rethinking the Value of Network Pruning (ICLR)"
REPRODUCES = ("Tables 1-4 protocol: fine-tuned vs Scratch-E vs Scratch-B after structured "
              "(L1-norm) and unstructured (magnitude) pruning; CIFAR-10 VGG-16-A 93.41/93.62/93.78")

PAPER_FINETUNE_LR_FACTOR = 0.01  # the schedule's final lr: x0.1 at each of its two milestones


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
    """Unstructured: one threshold over all weights but the classifier (Liu et al.'s code), over all, or per layer."""
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

    def data_use(self) -> DataUse:
        return DataUse(self.dataset, {"batch_size": self.batch_size})


PRESETS = {
    # The MLP at two sparsities (CNN: the large preset).
    "quick": Config(models=("mlp",), sparsities=(0.5, 0.9)),
    # quick with the seeds that two one-sided tests need at MATCH_MARGIN (docs/notes/pruning.md).
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
CRITERION = "Training criterion: each arm's validation accuracy (mean over seeds) on its own curve"
PAPER_ROW = "fine-tuned (paper: final lr, 1/4 length)"


def budget(config: Config, multiplier: float) -> int:
    """`steps x multiplier`, rounded to whole chunks (at least one)."""
    return max(1, round(config.steps * multiplier / config.chunk)) * config.chunk


def scratch_b_steps(config: Config, p: Pruned) -> int:
    """Scratch-B's steps: steps x FLOPs_full / FLOPs_pruned (Liu et al. Sec. 4), the factor capped if set."""
    ratio = p.large_flops / p.flops
    return budget(config, ratio if config.scratch_b_max_factor is None else min(ratio, config.scratch_b_max_factor))


METHODS = {
    "finetuned": Method(LABELS["finetuned"], "survivors", False, False, Config.finetune_grid, lambda c, p: c.steps),
    "scratch_e": Method(LABELS["scratch_e"], "fresh", True, True, lambda c: c.scratch_lr_factors, lambda c, p: c.steps),
    "scratch_b": Method(LABELS["scratch_b"], "fresh", True, True, lambda c: c.scratch_lr_factors, scratch_b_steps),
}


# ---------------------------------------------------------------- training

def train_runs(config: Config, trainer: Trainer, name: str, runs: list[Run], eval_every: int | None,
               first_key: int = 0) -> Trained:
    """Validation and test accuracy (runs, points, seeds), every `eval_every` steps (None: at the end)."""
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
    init_params, one, positions = rethink_study.large_start(model, seeds, x1)
    trained = train_runs(config, trainer_of(model), f"{kind}/large", [
        Run(init_params, ones_like(init_params), config.learning_rate, config.steps, True)], config.chunk)
    return Large(kind, model, trained.params, trained.scores.test[0, -1], one, positions,
                 network_flops(one, positions), read_curve(trained.scores.validation[0], trained.scores.steps, -1))


def prune(config: Config, large: Large, num_classes: int, split: tuning.Split) -> list[Pruned]:
    """Stage 2: every structured ratio and unstructured sparsity."""
    return rethink_study.prune_all(large, functools.partial(model_of, config, large.kind, num_classes),
                                   config.structured_ratios, config.sparsities, config.scope,
                                   seed_keys(config.seed, config.seeds), split.x_fit[:1], split.x_test, split.y_test)


def tune_arm(config: Config, trainer_of: Callable, p: Pruned, key: str) -> tuning.Tuned:
    """Stage 3: one method on one pruned network, its lr (and length) tuned on validation."""
    method, s = METHODS[key], p.setting
    name = f"{s.model}/{s.kind}{s.amount:g}/{method.label}"

    def scores_on(lrs: tuple[float, ...]) -> tuning.Scores:
        runs = [Run(getattr(p, method.start), p.masks, lr, method.steps(config, p), method.decays) for lr in lrs]
        return train_runs(config, trainer_of(p.model), f"{name}/lr{lrs[0]:g}" + ("+" if len(lrs) > 1 else ""),
                          runs, config.chunk).scores  # every chunk: the training criterion reads the curve

    return tuning.tune(scores_on, [config.learning_rate * f for f in method.lr_factors(config)],
                       max_widenings=config.max_widenings, fixed_length=method.fixed_length)


def rerun_scratch_e(config: Config, trainer_of: Callable, p: Pruned, tuned: tuning.Tuned) -> np.ndarray:
    """Scratch-E again at its chosen lr with other batches (seeds,): the A/A control of its comparison."""
    again = Run(p.fresh, p.masks, tuned.value, config.steps, True)
    return train_runs(config, trainer_of(p.model), f"{p.setting.model}/{p.setting.kind}{p.setting.amount:g}/rerun",
                      [again], None, first_key=1000).scores.test[0, -1]


# ---------------------------------------------------------------- the experiment

def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset)
    split = tuning.split(data, config.validation_fraction, config.seed)
    trainer_of = trainers(protocol_optimizer(config.optimizer, config.weight_decay), split, config.batch_size,
                          config.chunk, session)
    larges = map_independent(functools.partial(train_large, config, trainer_of=trainer_of,
                                               num_classes=data.num_classes, split=split), config.models)
    prunings = [p for large in larges for p in prune(config, large, data.num_classes, split)]
    for p in prunings:  # each architecture's trainer made here, once, not in two threads at a time
        trainer_of(p.model)
    arms = [(p, key) for p in prunings for key in METHODS]
    tuned = map_independent(lambda arm: tune_arm(config, trainer_of, *arm), arms)
    by_pruned = [dict(zip(METHODS, tuned[i:i + len(METHODS)])) for i in range(0, len(tuned), len(METHODS))]
    paper = config.learning_rate * PAPER_FINETUNE_LR_FACTOR, budget(config, config.paper_finetune_fraction)
    retrained = [Retrained(p, t, rethink_study.paper_protocol(t["finetuned"], *paper))
                 for p, t in zip(prunings, by_pruned)]
    results = _results(config, larges, retrained, len(split.y_test), data.num_classes)
    high = [r for r in retrained if rethink_study.is_high(r.pruned, config.sparsities)]
    again = [rerun_scratch_e(config, trainer_of, r.pruned, r.tuned["scratch_e"]) for r in high]
    records.put(results, "high_rerun", Rerun(np.stack(again)))
    return results


def _results(config: Config, larges: list[Large], retrained: list[Retrained], n_test: int, classes: int) -> Results:
    results = Results()
    results.tables[TABLE] = [rethink_study.large_row(large, config.learning_rate, config.steps, n_test)
                             for large in larges] + [row for r in retrained for row in rethink_study.setting_rows(
                                 r, METHODS, config, PAPER_ROW, n_test)]
    choices, results.tables[GRIDS], results.tables[tuning.BUDGET_TABLE] = rethink_study.tuning_rows(retrained, METHODS)
    for (label, key), choice in choices.items():
        records.put(results, records.key(label, key), choice)
    kinds = rethink_study.by_kind(retrained, config.sparsities)
    for kind, chosen in kinds.items():
        records.put(results, kind, rethink_study.accuracies(chosen))
    rule = measures.put_training(results, 1.0 / classes, larges, kinds)
    results.tables[CRITERION] = rethink_study.criterion_rows(rule, larges, retrained)
    records.put(results, "finetune", rethink_study.finetune_curves(retrained))
    results.notes += rethink_study.notes(config, n_test, rule) + measures.paper_in_place_note(results)
    return results


def figures(results: Results, directory) -> None:
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

PAPER_IN_PLACE = "fine-tuning at the paper's final lr and length, in scratch's place (run time; a note where not run)"
EQUIVALENCE = (f"two one-sided tests: the 90% t interval over seeds of the paired difference inside "
               f"+-{MATCH_MARGIN} in every setting")


def matching(statement: str, paper: str, kind: str, method: str, where: str) -> Claim:
    return Claim(statement=f"{statement} ({EQUIVALENCE})", paper=paper, where=where,
                 measure=measures.matches(kind, method, "finetuned"), region=near(0.0, MATCH_MARGIN),
                 control=Control(name=PAPER_IN_PLACE, results=lambda: synthetic({method: -0.1})),
                 passing=lambda: synthetic({}),
                 baseline=measures.matches(kind, method, "finetuned", baseline="finetuned_paper"), fmt="{:+.3f}")


CLAIMS = [
    matching("structured (L1-norm): tuned Scratch-B matches tuned fine-tuning", "VGG-16-A: 93.78 vs 93.41",
             "structured", "scratch_b", L1_NORM),
    matching("structured (L1-norm): tuned Scratch-E matches tuned fine-tuning", "VGG-16-A: 93.62 vs 93.41",
             "structured", "scratch_e", L1_NORM),
    Claim(statement="unstructured, highest sparsity: tuned Scratch-E lags tuned fine-tuning (fine-tuned - E > 0, "
          "worst model, paired t over seeds)", paper="lags on ImageNet; ~matches on CIFAR", where=UNSTRUCTURED,
          measure=measures.lags("high", "finetuned", "scratch_e"), region=above(0.0),
          control=Control(name="Scratch-E against itself (A/A; run time: rerun with other batches)",
                          results=lambda: synthetic({})),
          passing=lambda: synthetic({"scratch_e": -0.05}), baseline=measures.rerun_lag, fmt="{:+.3f}"),
    matching("unstructured, highest sparsity: tuned Scratch-B roughly matches tuned fine-tuning", "roughly matches",
             "high", "scratch_b", UNSTRUCTURED),
]


if __name__ == "__main__":
    main(NAME)
