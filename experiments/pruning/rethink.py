"""Rethinking the value of network pruning (Liu et al. 2019, arXiv 1810.05270): fine-tuning
against Scratch-E and Scratch-B, each with its own lr (and fine-tuning its length) chosen on a
validation split (`common.tuning`).

    python run.py prune-rethink --preset quick                     # MLP on MNIST-1D
    python run.py prune-rethink --preset paper --data-dir DATA     # small VGG-style CNN, CIFAR-10

Liu et al. train a large model, prune it, and compare fine-tuning the surviving weights with
training the pruned architecture from a fresh init for the same epochs (Scratch-E) or the same
compute (Scratch-B: epochs x FLOPs_full / FLOPs_pruned). For L1-norm filter pruning Scratch-E/B
match or beat fine-tuning (CIFAR-10 VGG-16-A: 93.41 fine-tuned, 93.62 E, 93.78 B); for
unstructured magnitude pruning Scratch-E lags at high sparsity and Scratch-B roughly matches.

Protocol (Sec. 4, scaled down): the step schedule (lr x0.1 at 50% and 75%) for the large model
and Scratch-E/B; structured: L1-norm pruning of every hidden layer's units; unstructured: one
magnitude threshold over the weight matrices, the classifier dense (`scope`, as the reference
code's `weight-level/cifar_prune.py`). The paper's fine-tuning (the final lr, 1/4 of the steps)
is shown beside the tuned methods. Every run carries its lr and schedule in its optimizer state,
so the runs of a grid share one vmapped program; fits run two at a time.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import config as checks
from common import plots, records, stats, tuning
from common.experiment import Claim, Control, DataUse, Results, above, at_least
from common.parallel import map_independent
from common.train import fold_in_each, seed_keys
from experiments.api import main
from experiments.pruning._fits import Run, Trainer, fit_members, members_of, trainer
from research.pruning import pruned
from research.pruning.flops import network_flops, weight_positions
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
MATCH_MARGIN = 0.02  # "matches": within 2 accuracy points (the interval's low end above -0.02)


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
    scratch_lr_factors: tuple[float, ...] = (1.0, 2.0)
    """Scratch-E/B's peak lr grid / peak lr."""
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
        checks.require_non_negative(self, ("weight_decay",))
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
    # The MLP only: the lr grids cost 2.8x the steps of a single lr (CNN: the large preset).
    "quick": Config(models=("mlp",)),
    # MNIST-1D at GPU size: 10 seeds, wider nets, five times the steps, Scratch-B's full budget.
    "large": Config(seeds=10, mlp_widths=(300, 300), cnn_channels=(32, 32, 32), steps=3000, chunk=250,
                    scratch_lr_factors=(0.3, 1.0, 3.0), scratch_b_max_factor=None),
    "paper": Config(dataset="cifar10", models=("cnn",), cnn_channels=(64, 128, 256, 256),
                    cnn_kernel=3, steps=8000, batch_size=128, optimizer="sgd",
                    learning_rate=0.05, weight_decay=1e-4, chunk=200,
                    scratch_lr_factors=(0.3, 1.0, 3.0), scratch_b_max_factor=None),
}

TABLE = "Test accuracy (mean +- std over seeds), each method at its chosen lr and length"
GRIDS = "Validation accuracy over the grids (the choice marked)"
PAPER_ROW = "fine-tuned (paper: final lr, 1/4 length)"


def budget(config: Config, multiplier: float) -> int:
    """`steps x multiplier`, rounded to whole chunks (at least one)."""
    return max(1, round(config.steps * multiplier / config.chunk)) * config.chunk


def scratch_b_factor(config: Config, large_flops: float, flops: float) -> float:
    """Scratch-B's steps / steps: FLOPs_full / FLOPs_pruned (Liu et al. Sec. 4), capped if set."""
    ratio = large_flops / flops
    return ratio if config.scratch_b_max_factor is None else min(ratio, config.scratch_b_max_factor)


class Method(NamedTuple):
    """One way to retrain a pruned network: where it starts, its schedule, its lr grid and budget."""

    label: str
    start: str  # the Pruned field it starts from
    decays: bool  # the step schedule (training) or a constant lr (fine-tuning)
    fixed_length: bool  # False: its length is tuned too (evaluated every chunk)
    lr_factors: Callable[[Config], tuple[float, ...]]
    steps: Callable[[Config, "Pruned"], int]


METHODS = {
    "finetuned": Method("fine-tuned", "survivors", False, False, Config.finetune_grid, lambda c, p: c.steps),
    "scratch_e": Method("scratch-E", "fresh", True, True, lambda c: c.scratch_lr_factors, lambda c, p: c.steps),
    "scratch_b": Method("scratch-B", "fresh", True, True, lambda c: c.scratch_lr_factors,
                        lambda c, p: budget(c, scratch_b_factor(c, p.large_flops, p.flops))),
}


# ---------------------------------------------------------------- records between stages

@dataclass(frozen=True)
class Retrained:
    """Every method's tuning for one pruned network, and the paper's fine-tuning protocol."""

    pruned: Pruned
    tuned: dict[str, tuning.Tuned]  # by METHODS key
    paper: tuning.Tuned  # fine-tuning at the final lr of the large model's schedule, the paper's length


class Accuracies(NamedTuple):
    """Per-seed test accuracy (settings, seeds) of each way to retrain, each at its choice."""

    not_retrained: np.ndarray
    finetuned_paper: np.ndarray
    finetuned: np.ndarray
    scratch_e: np.ndarray
    scratch_b: np.ndarray


class FinetuneCurves(NamedTuple):
    eval_step: np.ndarray  # (points,)
    val_curve: np.ndarray  # validation accuracy at the chosen lr, (settings, points, seeds)


class Trained(NamedTuple):
    """Every run of one fit: accuracies (runs, points, seeds), the evaluation steps, final params."""

    val: np.ndarray
    test: np.ndarray
    eval_steps: np.ndarray
    params: dict


# ---------------------------------------------------------------- training

def trainers(config: Config, split: tuning.Split, session) -> Callable:
    """trainer_of(model): one Trainer per model object, made at its first use."""
    optimizer, made = protocol_optimizer(config.optimizer, config.weight_decay), {}
    evaluation = {"val_accuracy": (split.x_val, split.y_val), "accuracy": (split.x_test, split.y_test)}

    def trainer_of(model) -> Trainer:
        if id(model) not in made:
            made[id(model)] = trainer(model, optimizer, (split.x_fit, split.y_fit), evaluation, config.batch_size,
                                      config.chunk, session)
        return made[id(model)]

    return trainer_of


def train_runs(config: Config, trainer: Trainer, name: str, runs: list[Run], eval_every: int | None,
               key_index: list[int] | None = None) -> Trained:
    """Validation and test accuracy (runs, points, seeds) of every run, evaluated every
    `eval_every` steps (None: at the end), run for the longest budget (a run whose budget is
    spent has lr 0). Run i's seeds draw their batches from keys `key_index[i]` (default i), so
    its numbers do not depend on the fit it is in."""
    n = config.seeds
    keys = jnp.concatenate([fold_in_each(seed_keys(config.seed, n), t) for t in (key_index or range(len(runs)))])
    out = fit_members(trainer, name, members_of(runs, n), keys, max(r.steps for r in runs), eval_every)
    shape = lambda a: a.reshape(a.shape[0], len(runs), n).transpose(1, 0, 2)
    return Trained(shape(out.curve("eval/val_accuracy")), shape(out.curve("eval/accuracy")),
                   np.array(out.history["eval_step"]), host(out.state.params))


# ---------------------------------------------------------------- stages 1 and 2: train large, prune

def model_of(config: Config, kind: str, num_classes: int, widths=None):
    return make_model(kind, widths or {"mlp": config.mlp_widths, "cnn": config.cnn_channels}[kind], num_classes,
                      config.cnn_kernel)


def train_large(config: Config, kind: str, trainer_of: Callable, num_classes: int, split: tuning.Split) -> Large:
    seeds, x1 = seed_keys(config.seed, config.seeds), split.x_fit[:1]
    model = model_of(config, kind, num_classes)
    init_params = host(initializer(model)(seeds, x1))
    one = jax.tree.map(lambda a: a[0], init_params)
    positions = weight_positions(lambda p, x: model.apply(p, {}, x)[0], one, x1)
    trained = train_runs(config, trainer_of(model), f"{kind}/large", [Run(init_params, ones_like(init_params),
                                                               config.learning_rate, config.steps, True)], None)
    return Large(kind, model, trained.params, trained.test[0, -1], one, positions, network_flops(one, positions))


def compile_pruning(config: Config, kind: str, num_classes: int, split: tuning.Split) -> None:
    """Compile one large model's pruning programs while it trains: they need only shapes."""
    model, keys, x1 = model_of(config, kind, num_classes), seed_keys(config.seed, config.seeds), split.x_fit[:1]
    example = jax.eval_shape(lambda: model.init_variables(jax.random.key(0), x1)[0])
    smalls = {r: model_of(config, kind, num_classes, pruned_widths(example, r)) for r in config.structured_ratios}
    pruned.compile_programs(model, smalls, config.scope, config.sparsities[0], keys, x1, split.x_test, split.y_test)


def prune(config: Config, large: Large, num_classes: int, split: tuning.Split) -> list[list[Pruned]]:
    """The groups of pruned networks of one large model, one architecture retrained each: every
    unstructured sparsity (one fresh init serves them all), then each structured ratio alone."""
    keys, x1 = seed_keys(config.seed, config.seeds), split.x_fit[:1]
    fresh = host(initializer(large.model)(fold_in_each(keys, 2), x1))
    smalls = {r: model_of(config, large.kind, num_classes, pruned_widths(large.example, r))
              for r in config.structured_ratios}
    return ([[pruned.unstructured(large, s, config.scope, fresh, split.x_test, split.y_test)
              for s in config.sparsities]]
            + [[pruned.structured(large, smalls[r], r, keys, x1, split.x_test, split.y_test)]
               for r in config.structured_ratios])


# ---------------------------------------------------------------- stage 3: retrain on the grids

class Job(NamedTuple):
    """One fit of a retraining grid: runs `index` of one method's grid (pruned network major,
    lr minor) for a group of pruned networks of one architecture."""

    group: int
    method: str
    index: list[int]
    program: tuple  # (trainer, members): jobs with the same one share a compiled program
    cost: float  # members x steps x parameters
    train: Callable[[], Trained]


def retrain_jobs(config: Config, g: int, group: list[Pruned], trainer_of: Callable) -> list[Job]:
    """Every method's lr grid for pruned networks of one architecture. Every run keeps its key
    (its batches), so a grid can be cut into fits, one per lr; fine-tuning a group of several
    pruned networks stays one fit, as XLA:CPU rounds a run differently in a fit of 45 runs
    than in one of 15, and one fit keeps the numbers this experiment has always given."""
    setting, trainer = group[0].setting, trainer_of(group[0].model)
    name = f"{setting.model}/{setting.kind}" + (f"{setting.amount}" if setting.kind == "structured" else "")
    size = sum(a.size for a in jax.tree.leaves(group[0].fresh)) // config.seeds
    jobs = []
    for key, method in METHODS.items():
        lrs = [config.learning_rate * f for f in method.lr_factors(config)]
        runs = [Run(getattr(p, method.start), p.masks, lr, method.steps(config, p), method.decays)
                for p in group for lr in lrs]
        parts = ([(f"/lr{lr:g}", list(range(j, len(runs), len(lrs)))) for j, lr in enumerate(lrs)]
                 if method.fixed_length or len(group) == 1 else [("", list(range(len(runs))))])
        for suffix, index in parts:
            chosen = [runs[i] for i in index]
            jobs.append(Job(g, key, index, (id(trainer), len(index)), len(index) * max(r.steps for r in chosen) * size,
                            functools.partial(train_runs, config, trainer, f"{name}/{method.label}{suffix}", chosen,
                                              None if method.fixed_length else config.chunk, index)))
    return jobs


def schedule(jobs: list[Job]) -> list[Job]:
    """Longest first, except that each program's longest job comes before any program's second:
    the first jobs compile different programs side by side instead of waiting on one."""
    seen, first, rest = set(), [], []
    for job in sorted(jobs, key=lambda job: -job.cost):
        (rest if job.program in seen else first).append(job)
        seen.add(job.program)
    return first + rest


def paper_protocol(config: Config, finetuned: tuning.Tuned) -> tuning.Tuned:
    """The fine-tuning grid's point at the paper's lr (0.01 x peak) and length (1/4 of steps)."""
    scores = finetuned.scores
    index = scores.values.index(float(config.learning_rate * PAPER_FINETUNE_LR_FACTOR))
    point = scores.steps.index(budget(config, config.paper_finetune_fraction))
    return tuning.Tuned(finetuned.name, scores, scores.values[index], scores.steps[point], index, point, 0, None)


def retrain(config: Config, groups: list[list[Pruned]], trainer_of: Callable) -> list[Retrained]:
    """Every group's grids, their fits side by side, and each method's choice on validation."""
    jobs = schedule([job for g, group in enumerate(groups) for job in retrain_jobs(config, g, group, trainer_of)])
    done = map_independent(lambda job: job.train(), jobs)
    out = []
    for g, group in enumerate(groups):
        tuned = [{} for _ in group]
        for key, method in METHODS.items():
            lrs = [config.learning_rate * f for f in method.lr_factors(config)]
            parts = [(job, trained) for job, trained in zip(jobs, done) if (job.group, job.method) == (g, key)]
            val = np.empty((len(group) * len(lrs), len(parts[0][1].eval_steps), config.seeds))
            test = np.empty_like(val)
            for job, trained in parts:
                val[job.index], test[job.index] = trained.val, trained.test
            for i in range(len(group)):
                rows = slice(i * len(lrs), (i + 1) * len(lrs))
                scores = tuning.Scores(lrs, parts[0][1].eval_steps, val[rows], test[rows])
                tuned[i][key] = tuning.choose(scores, fixed_length=method.fixed_length)
        out += [Retrained(p, t, paper_protocol(config, t["finetuned"])) for p, t in zip(group, tuned)]
    return out


# ---------------------------------------------------------------- the experiment

def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset)
    split = tuning.split(data, config.validation_fraction, config.seed)
    trainer_of = trainers(config, split, session)
    # each large model trains beside the compilation of its pruning programs
    jobs = [job for kind in config.models for job in (
        functools.partial(train_large, config, kind, trainer_of, data.num_classes, split),
        functools.partial(compile_pruning, config, kind, data.num_classes, split))]
    larges = map_independent(lambda job: job(), jobs)[::2]
    groups = [group for large in larges for group in prune(config, large, data.num_classes, split)]
    retrained = sorted(retrain(config, groups, trainer_of), key=lambda r: (config.models.index(r.pruned.setting.model),
                                                               r.pruned.setting.kind, r.pruned.setting.amount))
    return _results(config, larges, retrained)


def accuracies(retrained: list[Retrained]) -> Accuracies:
    return Accuracies(np.stack([r.pruned.not_retrained for r in retrained]),
                      np.stack([r.paper.test_at_choice() for r in retrained]),
                      *[np.stack([r.tuned[key].test_at_choice() for r in retrained]) for key in METHODS])


def _results(config: Config, larges: list[Large], retrained: list[Retrained]) -> Results:
    results = Results()
    rows = [{"model": large.kind, "pruning": "none (large model)", "variant": "trained", "lr": config.learning_rate,
             "steps": config.steps, "FLOPs % of large": 100.0, "val accuracy": float("nan"),
             "test accuracy": float(np.mean(large.accuracy)), "std": float(np.std(large.accuracy))}
            for large in larges]
    results.tables[TABLE] = rows + [row for r in retrained for row in _setting_rows(config, r)]
    results.tables[GRIDS] = [row for r in retrained for key, method in METHODS.items()
                             for row in r.tuned[key].rows(f"{r.pruned.setting.label()} {method.label}")]
    kinds = {kind: [r for r in retrained if r.pruned.setting.kind == kind] for kind in ("structured", "unstructured")}
    kinds["high"] = [r for r in kinds["unstructured"] if r.pruned.setting.amount == max(config.sparsities)]
    for kind, chosen in kinds.items():
        records.put(results, kind, accuracies(chosen))
    curves = [r.tuned["finetuned"].scores.validation[r.tuned["finetuned"].index] for r in retrained]
    records.put(results, "finetune", FinetuneCurves(np.array(retrained[0].tuned["finetuned"].scores.steps),
                                                    np.stack(curves)))
    results.notes += _notes(config, retrained)
    return results


def _setting_rows(config: Config, r: Retrained) -> list[dict]:
    p = r.pruned
    columns = {"model": p.setting.model, "pruning": f"{p.setting.kind} {p.setting.amount:.0%}",
               "architecture": "-".join(map(str, p.architecture)),
               "FLOPs % of large": round(100 * p.flops / p.large_flops, 1)}

    def row(variant, lr, steps, val, test):
        return {**columns, "variant": variant, "lr": lr, "steps": steps, "val accuracy": val,
                "test accuracy": float(np.mean(test)), "std": float(np.std(test))}

    def tuned_row(variant, t: tuning.Tuned, steps):
        return row(variant, t.value, steps, float(np.mean(t.scores.validation[t.index, t.point])), t.test_at_choice())

    return [row("pruned, not retrained", 0.0, 0, float("nan"), p.not_retrained),
            tuned_row(PAPER_ROW, r.paper, r.paper.step),
            *[tuned_row(f"{method.label} (tuned)", r.tuned[key],
                        r.tuned[key].step if not method.fixed_length else method.steps(config, p))
              for key, method in METHODS.items()]]


def _notes(config: Config, retrained: list[Retrained]) -> list[str]:
    cap = "uncapped" if config.scratch_b_max_factor is None else f"capped at {config.scratch_b_max_factor:g}x"
    notes = [
        f"Unstructured scope: {config.scope}. Scratch-B's budget: FLOPs_full / FLOPs_pruned x steps, {cap}.",
        (f"Fine-tuning lr grid {[f'{f:g}x' for f in config.finetune_grid()]} of the peak lr "
         f"{config.learning_rate:g}, length up to {config.steps} steps (every {config.chunk}); Scratch-E/B "
         f"peak lr grid {[f'{f:g}x' for f in config.scratch_lr_factors]}; chosen by mean validation accuracy "
         f"on {config.validation_fraction:.0%} of the training data."),
    ]
    edges = [f"{r.pruned.setting.label()} {m.label}" for r in retrained for key, m in METHODS.items()
             if r.tuned[key].edge == "highest"]
    if edges:
        notes.append(f"Chosen at the top of its lr grid ({len(edges)} of {len(retrained) * len(METHODS)}): "
                     f"{', '.join(edges)}; a larger lr might do better still.")
    curve = np.stack([np.nanmean(r.tuned["finetuned"].scores.validation[r.tuned["finetuned"].index], axis=-1)
                      for r in retrained])  # (settings, points)
    gain = curve[:, -1] - curve[:, len(curve[0]) // 2]
    notes.append(f"Fine-tuning plateau: validation accuracy at the chosen lr gains {np.max(gain):+.3f} "
                 f"at most (over settings) in the second half of its {config.steps} steps.")
    return notes


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

def worst_gap(kind: str, a: str, b: str):
    """Smallest over settings of the paired (same seed) difference a - b of test accuracy."""
    def measure(r: Results) -> stats.Measurement:
        got = records.get(r, kind, Accuracies)
        return stats.smallest(*[stats.paired_difference(x, y) for x, y in zip(getattr(got, a), getattr(got, b))])
    return measure


def synthetic(offsets: dict[str, float], settings: int = 2, seeds: int = 5, spread: float = 0.005) -> Results:
    """Per-seed accuracies 0.8 + offset[field] (+ a small seed pattern) for every kind; the
    network not retrained 0.3 below fine-tuning unless told otherwise."""
    offsets = {"not_retrained": -0.3} | offsets
    noise = spread * np.linspace(-1, 1, seeds)
    results = Results()
    for kind in ("structured", "unstructured", "high"):
        records.put(results, kind, Accuracies(*[
            np.tile(0.8 + offsets.get(f, 0.0) + (noise[::-1] if f == "scratch_b" else noise), (settings, 1))
            for f in Accuracies._fields]))
    return results


NOT_RETRAINED = "the pruned network, not retrained, in scratch's place"
_not_retrained = lambda: synthetic({"scratch_e": -0.3, "scratch_b": -0.3})

CLAIMS = [
    Claim(
        statement="structured (L1-norm): tuned Scratch-B matches or beats tuned fine-tuning (worst setting, "
        f"paired over seeds, low end above -{MATCH_MARGIN})",
        paper="VGG-16-A: 93.78 vs 93.41",
        measure=worst_gap("structured", "scratch_b", "finetuned"),
        region=at_least(-MATCH_MARGIN),
        control=Control(name=NOT_RETRAINED, results=_not_retrained),
        passing=lambda: synthetic({"scratch_b": 0.01}),
        baseline=worst_gap("structured", "not_retrained", "finetuned"),
        fmt="{:+.3f}",
    ),
    Claim(
        statement="structured (L1-norm): tuned Scratch-E matches or beats tuned fine-tuning (worst setting, "
        f"paired, low end above -{MATCH_MARGIN})",
        paper="VGG-16-A: 93.62 vs 93.41",
        measure=worst_gap("structured", "scratch_e", "finetuned"),
        region=at_least(-MATCH_MARGIN),
        control=Control(name=NOT_RETRAINED, results=_not_retrained),
        passing=lambda: synthetic({"scratch_e": 0.01}),
        baseline=worst_gap("structured", "not_retrained", "finetuned"),
        fmt="{:+.3f}",
    ),
    Claim(
        statement="unstructured, highest sparsity: tuned Scratch-E lags tuned fine-tuning (fine-tuned - E > 0, "
        "worst model, paired)",
        paper="lags on ImageNet; ~matches on CIFAR",
        measure=worst_gap("high", "finetuned", "scratch_e"),
        region=above(0.0),
        control=Control(name="Scratch-E against itself (A/A)", results=lambda: synthetic({})),
        passing=lambda: synthetic({"scratch_e": -0.05}),
        fmt="{:+.3f}",
    ),
    Claim(
        statement="unstructured, highest sparsity: tuned Scratch-B roughly matches tuned fine-tuning (worst model, "
        f"paired, low end above -{MATCH_MARGIN})",
        paper="roughly matches",
        measure=worst_gap("high", "scratch_b", "finetuned"),
        region=at_least(-MATCH_MARGIN),
        control=Control(name=NOT_RETRAINED, results=_not_retrained),
        passing=lambda: synthetic({"scratch_b": 0.0}),
        baseline=worst_gap("high", "not_retrained", "finetuned"),
        fmt="{:+.3f}",
    ),
]


if __name__ == "__main__":
    main(NAME)
