"""Rethinking the value of network pruning: fine-tuning against Scratch-E and Scratch-B,
each with its own lr (and fine-tuning its length) chosen on a validation split.

    python run.py prune-rethink --preset quick                     # MLP + CNN on MNIST-1D
    python run.py prune-rethink --preset large                     # the same, GPU-sized
    python run.py prune-rethink --preset paper --data-dir DATA     # small VGG-style CNN, CIFAR-10

Liu et al. (2019, arXiv 1810.05270) train a large model, prune it, and compare
fine-tuning the surviving weights with training the pruned architecture from a
fresh init for the same epochs (Scratch-E) or for the same compute (Scratch-B:
epochs x FLOPs_full / FLOPs_pruned). For predefined architectures (L1-norm
filter pruning) Scratch-E/B match or beat fine-tuning, e.g. CIFAR-10 VGG-16-A
93.41 (fine-tuned) / 93.62 (E) / 93.78 (B); for unstructured magnitude pruning
Scratch-E lags at high sparsity on large data and Scratch-B roughly matches.

Protocol (Sec. 4, scaled down). The large model trains for `steps` with the
step schedule (lr x0.1 at 50% and 75%). Structured: L1-norm pruning of every
hidden layer's neurons (MLP) or filters (CNN), a smaller network. Unstructured
(`weight-level/cifar_prune.py` of the reference code): one global magnitude
threshold over the weight matrices, the classifier left dense (`scope`).
Scratch-E trains the pruned architecture for `steps`, Scratch-B for `steps` x
FLOPs_full / FLOPs_pruned (capped at `scratch_b_max_factor` if set: quick only).

Budgets. The paper fine-tunes for 40 of 160 epochs at the schedule's final lr
(0.01 x the peak); that protocol is kept and shown, but the claims compare
tuned methods: fine-tuning's constant lr from `finetune_lr_factors` (which
includes 1.0, the peak) and its length (every chunk up to `steps`), Scratch-E/B's
peak lr from `scratch_lr_factors`, each chosen by the mean validation accuracy
over seeds on `validation_fraction` of the training data (never the test set).
Every run of a grid carries its own lr in its optimizer state (set in `init`),
so runs of any lr and pruning setting share one vmapped program; the grids are cut
into fits (one per lr, or one per group for fine-tuning) that run two at a time,
and the pruning programs compile while the large model trains.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import plots, stats
from common.config import (require_at_least_one, require_distinct, require_in_range, require_non_negative,
                           require_numbers_representable, require_positive)
from common.experiment import Claim, Control, DataUse, Results, above, at_least
from common.models import CNN, MLP
from common.nn import accuracy as accuracy_of
from common.parallel import map_independent
from common.train import (Loop, classifier_evaluation, epoch_batches, fit, fold_in_each, seed_keys,
                          supervised_step)
from experiments.api import main
from research.pruning.masked import apply_masks
from research.pruning.flops import network_flops, weight_positions
from research.pruning.masks import SCOPES, magnitude_masks_of_counts, pruned_counts
from research.pruning.protocol import protocol_optimizer, run_init, run_members
from research.pruning.structured import l1_keep_indices, n_kept, prune_units
from research.pruning.tuning import Grid, carve_validation

NAME = "prune-rethink"
STUDY = "pruning"
PAPER = "Liu et al. 2019, Rethinking the Value of Network Pruning (ICLR)"
REPRODUCES = ("Tables 1-4 protocol: fine-tuned vs Scratch-E vs Scratch-B after structured "
              "(L1-norm) and unstructured (magnitude) pruning; CIFAR-10 VGG-16-A 93.41/93.62/93.78")
# Measured (quick, cold cache, /usr/bin/time): 96 s wall / 59 s user CPU on the 2-core CPU at load 8
# (other sessions running); 51 compiled programs.

PAPER_FINETUNE_LR_FACTOR = 0.01  # the schedule's final lr: x0.1 at each of its two milestones
MATCH_MARGIN = 0.02  # "matches": within 2 accuracy points (the interval's low end above -0.02)


@dataclass(frozen=True)
class Config:
    """Train large, prune, then tuned fine-tuning vs tuned Scratch-E vs Scratch-B (test accuracy)."""

    seeds: int = 5
    """Independent seeds, every one in the same vmapped program."""
    dataset: Literal["mnist1d", "cifar10"] = "mnist1d"
    """The data set: MNIST-1D comes with the install, the MNIST subset with the mnist-subset extra; MNIST, Fashion-MNIST and CIFAR-10 are read from --data-dir."""
    models: tuple[str, ...] = ("mlp", "cnn")
    """Which of "mlp" and "cnn" to prune."""
    mlp_widths: tuple[int, ...] = (100, 100)
    cnn_channels: tuple[int, ...] = (16, 16, 16)
    cnn_kernel: int = 5
    steps: int = 600
    """Steps of the large model and of Scratch-E (the paper's 160 epochs); fine-tuning's longest."""
    batch_size: int = 100
    """Examples per minibatch."""
    optimizer: Literal["sgd", "adam"] = "adam"
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
        require_numbers_representable(self)
        require_distinct(self, ('models', 'structured_ratios', 'sparsities'))
        require_at_least_one(self, ("seeds", "steps", "batch_size", "chunk", "cnn_kernel", "mlp_widths",
                                    "cnn_channels"))
        if not set(self.models) <= {"mlp", "cnn"} or not self.models:
            raise ValueError(f"models must be a non-empty subset of mlp, cnn (got {self.models})")
        require_in_range(self, ("structured_ratios", "sparsities"), 0.0, 1.0, open_low=True, open_high=True)
        require_in_range(self, ("paper_finetune_fraction",), 0.0, 1.0, open_low=True)
        require_in_range(self, ("validation_fraction",), 0.0, 1.0, open_low=True, open_high=True)
        require_positive(self, ("learning_rate", "finetune_lr_factors", "scratch_lr_factors"))
        require_non_negative(self, ("weight_decay",))
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

VARIANTS = ("fine-tuned", "scratch-E", "scratch-B")
TABLE = "Test accuracy (mean +- std over seeds), each method at its chosen lr and length"


def make_model(config: Config, kind: str, num_classes: int, widths=None):
    if kind == "mlp":
        return MLP(tuple(widths or config.mlp_widths), num_classes)
    return CNN(tuple(widths or config.cnn_channels), num_classes, kernel=config.cnn_kernel,
               stride=2, padding=config.cnn_kernel // 2)


def budget(config: Config, multiplier: float) -> int:
    """`steps x multiplier`, rounded to whole chunks (at least one)."""
    return max(1, round(config.steps * multiplier / config.chunk)) * config.chunk


# ---------------------------------------------------------------- records between stages

@dataclass(frozen=True)
class Setting:
    """One way of pruning one model."""

    model: str  # "mlp" or "cnn"
    kind: Literal["structured", "unstructured"]
    amount: float  # fraction of units (structured) or weights (unstructured) removed

    def label(self) -> str:
        return f"{self.model} {self.kind} {self.amount:.0%}"


@dataclass
class Large:
    """A trained large model: what every pruning setting starts from."""

    kind: str
    model: object
    trainer: "Trainer"  # its fits' shared step and evaluation (the unstructured retraining's too)
    trained: dict  # params, seeds leading (host arrays)
    accuracy: np.ndarray  # test accuracy (seeds,)
    example: dict  # seed 0's initial params: shapes for FLOP counts
    positions: list  # weight_positions of the large model
    flops: float


@dataclass
class Pruned:
    """A pruned network ready to retrain: the surviving trained weights and a fresh init,
    both with a leading seed axis, and the masks the optimizer keeps."""

    setting: Setting
    architecture: tuple[int, ...]  # layer widths of the network retrained
    trainer: "Trainer"  # of the network retrained
    survivors: dict
    fresh: dict
    masks: dict
    not_retrained: np.ndarray  # test accuracy of the survivors (seeds,)
    flops: float
    large_flops: float
    scratch_b_factor: float  # Scratch-B's steps / steps


@dataclass
class Retrained:
    """Every grid point of every method for one pruned network."""

    pruned: Pruned
    not_retrained: np.ndarray  # test accuracy (seeds,)
    grids: dict[str, Grid]  # by variant; fine-tuning's has one point per chunk
    paper_finetune_steps: int
    finetune_lr_paper: float

    def paper_choice(self):
        """Fine-tuning at the final lr of the large model's schedule for the paper's length."""
        return self.grids["fine-tuned"].at(self.finetune_lr_paper, self.paper_finetune_steps)

    def chosen(self, variant: str):
        return self.grids[variant].choose(last_point_only=variant != "fine-tuned")

    def test(self, variant: str) -> np.ndarray:
        if variant == "fine-tuned (paper)":
            grid = self.grids["fine-tuned"]
            return grid.test_at(self.paper_choice())
        if variant == "not retrained":
            return self.not_retrained
        return self.grids[variant].test_at(self.chosen(variant))


@dataclass
class Run:
    """One training run for every seed: start, masks and schedule."""

    params: dict
    masks: dict
    lr: float
    steps: int
    decays: bool


@dataclass
class Trainer:
    """What every fit of one architecture shares (one step and one evaluation object, so
    its fits share compiled programs)."""

    model: object
    step: object
    evaluate: object
    optimizer: object
    config: Config
    split: object
    session: object = field(repr=False)


class Trained(NamedTuple):
    """Every run of one fit: accuracies (runs, points, seeds), the evaluation steps, final params."""

    val: np.ndarray
    test: np.ndarray
    eval_steps: np.ndarray
    params: dict


def two_split_evaluation(model):
    """evaluate(state, (val, test)) -> validation and test accuracy."""
    plain = classifier_evaluation(model)

    def evaluate(state, data):
        val, test = data
        return {"val_accuracy": plain(state, val)["accuracy"], "accuracy": plain(state, test)["accuracy"]}

    return evaluate


def make_trainer(model, optimizer, config, split, session) -> Trainer:
    return Trainer(model, supervised_step(model, optimizer), two_split_evaluation(model), optimizer,
                   config, split, session)


def train_runs(trainer: Trainer, name: str, runs: list[Run], eval_every: int | None,
               key_index: list[int] | None = None) -> Trained:
    """Validation and test accuracy (runs, points, seeds) of every run, evaluated every
    `eval_every` steps (None: at the end); all runs x seeds one vmapped program, run for the
    longest budget (a run whose budget is spent has lr 0 and stays as it ended). Run i's seeds
    draw their batches from keys `key_index[i]` (default i), so a run's numbers do not depend
    on which others share its fit."""
    config, split, n = trainer.config, trainer.split, trainer.config.seeds
    base = seed_keys(config.seed, n)
    keys = jnp.concatenate([fold_in_each(base, t) for t in (key_index or range(len(runs)))])
    stack = lambda *xs: np.concatenate([np.asarray(x) for x in xs])  # noqa: E731 (host: no compile)
    members = run_members(jax.tree.map(stack, *[r.params for r in runs]), jax.tree.map(stack, *[r.masks for r in runs]),
                          np.repeat([r.lr for r in runs], n), np.repeat([r.steps for r in runs], n),
                          np.repeat([r.decays for r in runs], n))
    out = fit(name, init=run_init(trainer.optimizer), members=members, step=trainer.step,
              sample_batch=epoch_batches(config.batch_size),
              data=(split.x_train, split.y_train),
              loop=Loop(steps=max(r.steps for r in runs), chunk=config.chunk, eval_every=eval_every),
              keys=keys[:, None], evaluate=trainer.evaluate,
              eval_data=((split.x_val, split.y_val), (split.x_test, split.y_test)), session=trainer.session)
    shape = lambda a: a.reshape(a.shape[0], len(runs), n).transpose(1, 0, 2)  # noqa: E731
    return Trained(shape(out.curve("eval/val_accuracy")), shape(out.curve("eval/accuracy")),
                   np.array(out.history["eval_step"]), jax.tree.map(np.asarray, out.state.params))


@functools.lru_cache(maxsize=None)
def initializer(model):
    """jit(vmap over seed keys) of the model's initial params; one program per model, the
    example input traced."""
    return jax.jit(jax.vmap(lambda k, x1: model.init_variables(k, x1)[0], in_axes=(0, None)))


def host(tree):
    """Host (numpy) copies: later programs see one kind of input, and slicing costs no compile."""
    return jax.tree.map(np.asarray, tree)


# ---------------------------------------------------------------- stage 1: the large models

def train_large(config: Config, kind: str, split, num_classes: int, optimizer, session) -> Large:
    seeds, x1 = seed_keys(config.seed, config.seeds), split.x_train[:1]
    model = make_model(config, kind, num_classes)
    init_params = host(initializer(model)(seeds, x1))
    one = jax.tree.map(lambda a: a[0], init_params)
    positions = weight_positions(lambda p, x: model.apply(p, {}, x)[0], one, x1)
    trainer = make_trainer(model, optimizer, config, split, session)
    run = Run(init_params, jax.tree.map(lambda a: np.ones(a.shape, bool), init_params), config.learning_rate,
              config.steps, True)
    trained = train_runs(trainer, f"{kind}/large", [run], None)
    return Large(kind, model, trainer, trained.params, trained.test[0, -1], one, positions,
                 network_flops(one, positions))


# ---------------------------------------------------------------- stage 2: prune

def scratch_b_factor(config: Config, large_flops: float, flops: float) -> float:
    ratio = large_flops / flops
    return ratio if config.scratch_b_max_factor is None else min(ratio, config.scratch_b_max_factor)


@functools.lru_cache(maxsize=None)
def structured_program(large_model, small_model, ratio: float):
    """jit(vmap over seeds) of L1-norm pruning at `ratio` (it sets the small shapes): the
    survivors, the small network's fresh init and the survivors' test accuracy, one program."""

    def prune(trained, key, x1, x, y):
        survivors = {"layers": prune_units(trained["layers"], l1_keep_indices(trained["layers"], ratio))}
        fresh = small_model.init_variables(jax.random.fold_in(key, 1), x1)[0]
        return survivors, fresh, accuracy_of(small_model.apply(survivors, {}, x)[0], y)

    return jax.jit(jax.vmap(prune, in_axes=(0, 0, None, None, None)))


@functools.lru_cache(maxsize=None)
def unstructured_program(model, scope):
    """jit(vmap over seeds) of magnitude pruning to traced counts: masks, survivors and the
    survivors' test accuracy; one program for every sparsity."""

    def prune(trained, counts, x, y):
        masks = magnitude_masks_of_counts(trained, counts, scope)
        survivors = apply_masks(trained, masks)
        return masks, survivors, accuracy_of(model.apply(survivors, {}, x)[0], y)

    return jax.jit(jax.vmap(prune, in_axes=(0, None, None, None)))


def pruned_widths(example, ratio: float) -> tuple[int, ...]:
    """Hidden widths left by L1-norm pruning of `ratio` of every hidden layer's units."""
    return tuple(n_kept(ratio, layer["w"].shape[-1]) for layer in example["layers"][:-1])


def compile_pruning(config: Config, kind: str, split, num_classes: int) -> None:
    """Compile one large model's pruning programs while it trains: they need only shapes."""
    model = make_model(config, kind, num_classes)
    seeds, x1 = seed_keys(config.seed, config.seeds), split.x_train[:1]
    trained = jax.eval_shape(initializer(model), seeds, x1)
    example = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype), trained)
    counts = np.array(pruned_counts(example, config.sparsities[0], config.scope))  # one shape for every sparsity
    unstructured_program(model, config.scope).lower(trained, counts, split.x_test, split.y_test).compile()
    for ratio in config.structured_ratios:
        small = make_model(config, kind, num_classes, pruned_widths(example, ratio))
        structured_program(model, small, ratio).lower(trained, seeds, x1, split.x_test, split.y_test).compile()


def prune_structured(config: Config, large: Large, ratio: float, num_classes: int, split) -> Pruned:
    """L1-norm pruning of every hidden layer: a smaller network."""
    widths = pruned_widths(large.example, ratio)
    small = make_model(config, large.kind, num_classes, widths)
    survivors, fresh, untrained = host(structured_program(large.model, small, ratio)(
        large.trained, seed_keys(config.seed, config.seeds), split.x_train[:1], split.x_test, split.y_test))
    flops = network_flops(jax.tree.map(lambda a: a[0], fresh), large.positions)
    return Pruned(Setting(large.kind, "structured", ratio), (*widths, num_classes),
                  make_trainer(small, large.trainer.optimizer, config, split, large.trainer.session), survivors,
                  fresh, jax.tree.map(lambda a: np.ones(a.shape, bool), fresh), untrained, flops, large.flops,
                  scratch_b_factor(config, large.flops, flops))


def prune(config: Config, large: Large, num_classes: int, split) -> list[list[Pruned]]:
    """The groups of pruned networks of one large model, one architecture retrained each: every
    unstructured sparsity (one fresh init serves them all), then each structured ratio alone."""
    fresh = host(initializer(large.model)(fold_in_each(seed_keys(config.seed, config.seeds), 2), split.x_train[:1]))
    return ([[prune_unstructured(config, large, s, fresh, split) for s in config.sparsities]]
            + [[prune_structured(config, large, r, num_classes, split)] for r in config.structured_ratios])


def prune_unstructured(config: Config, large: Large, sparsity: float, fresh, split) -> Pruned:
    """Magnitude masks on the large architecture; `fresh` is its Scratch init (seeds leading)."""
    counts = np.array(pruned_counts(large.example, sparsity, config.scope))
    masks, survivors, untrained = host(unstructured_program(large.model, config.scope)(
        large.trained, counts, split.x_test, split.y_test))
    flops = network_flops(large.example, large.positions, jax.tree.map(lambda a: a[0], masks))
    widths = tuple(layer["w"].shape[-1] for layer in large.example["layers"])
    return Pruned(Setting(large.kind, "unstructured", sparsity), widths, large.trainer, survivors, fresh, masks,
                  untrained, flops, large.flops, scratch_b_factor(config, large.flops, flops))


# ---------------------------------------------------------------- stage 3: retrain on the grids

class Job(NamedTuple):
    """One fit of a retraining grid: runs `index` of one method's grid (pruned network major,
    lr minor) for a group of pruned networks of one architecture."""

    group: int
    variant: str
    index: list[int]
    program: tuple  # (trainer, members): jobs with the same one share a compiled program
    cost: float  # members x steps x parameters
    train: Callable[[], Trained]


def retrain_jobs(config: Config, g: int, group: list[Pruned]) -> tuple[list[Job], dict]:
    """Fine-tuning, Scratch-E and Scratch-B over their lr grids for pruned networks of one
    architecture, and the grids' lr values by method. Every run keeps its key (its batches),
    so a grid can be cut into several fits: one per lr. Fine-tuning a group of several pruned
    networks stays one fit of all its runs: XLA:CPU rounds a run differently in a fit of 45
    runs than in one of 15 (it rounds 30, 15 or 10 runs as in 5), and one fit keeps the
    numbers this experiment has always given."""
    trainer = group[0].trainer
    name = f"{group[0].setting.model}/{group[0].setting.kind}" + (
        f"{group[0].setting.amount}" if group[0].setting.kind == "structured" else "")
    ft_lrs = [config.learning_rate * f for f in config.finetune_grid()]
    scratch_lrs = [config.learning_rate * f for f in config.scratch_lr_factors]
    plans = {
        "fine-tuned": ([Run(p.survivors, p.masks, lr, config.steps, False) for p in group for lr in ft_lrs],
                       ft_lrs, config.chunk),
        "scratch-E": ([Run(p.fresh, p.masks, lr, config.steps, True) for p in group for lr in scratch_lrs],
                      scratch_lrs, None),
        "scratch-B": ([Run(p.fresh, p.masks, lr, budget(config, p.scratch_b_factor), True)
                       for p in group for lr in scratch_lrs], scratch_lrs, None),
    }
    size = sum(a.size for a in jax.tree.leaves(group[0].fresh)) // config.seeds
    jobs = []
    for variant, (runs, lrs, eval_every) in plans.items():
        per_lr = variant != "fine-tuned" or len(group) == 1
        parts = ([(f"/lr{lr:g}", list(range(j, len(runs), len(lrs)))) for j, lr in enumerate(lrs)] if per_lr
                 else [("", list(range(len(runs))))])
        for suffix, index in parts:
            chosen = [runs[i] for i in index]
            jobs.append(Job(g, variant, index, (id(trainer), len(index)),
                            len(index) * max(r.steps for r in chosen) * size,
                            functools.partial(train_runs, trainer, f"{name}/{variant}{suffix}", chosen,
                                              eval_every, index)))
    return jobs, {variant: lrs for variant, (_, lrs, _) in plans.items()}


def schedule(jobs: list[Job]) -> list[Job]:
    """Longest first, except that each program's longest job comes before any program's second:
    the first jobs compile different programs side by side instead of waiting on one."""
    jobs = sorted(jobs, key=lambda job: -job.cost)
    seen, first, rest = set(), [], []
    for job in jobs:
        (rest if job.program in seen else first).append(job)
        seen.add(job.program)
    return first + rest


def retrain(config: Config, groups: list[list[Pruned]]) -> list[Retrained]:
    """Every group's grids, their fits side by side."""
    jobs, values = [], []
    for g, group in enumerate(groups):
        group_jobs, lrs = retrain_jobs(config, g, group)
        jobs += group_jobs
        values.append(lrs)
    jobs = schedule(jobs)
    done = map_independent(lambda job: job.train(), jobs)
    out = []
    for g, group in enumerate(groups):
        grids = {p.setting: {} for p in group}
        for variant, lrs in values[g].items():
            parts = [(job, trained) for job, trained in zip(jobs, done) if (job.group, job.variant) == (g, variant)]
            steps = parts[0][1].eval_steps
            val = np.empty((len(group) * len(lrs), len(steps), config.seeds))
            test = np.empty_like(val)
            for job, trained in parts:
                val[job.index], test[job.index] = trained.val, trained.test
            for i, p in enumerate(group):
                rows = slice(i * len(lrs), (i + 1) * len(lrs))
                grids[p.setting][variant] = Grid(np.array(lrs), steps, val[rows], test[rows])
        out += [Retrained(p, p.not_retrained, grids[p.setting], budget(config, config.paper_finetune_fraction),
                          config.learning_rate * PAPER_FINETUNE_LR_FACTOR) for p in group]
    return out


# ---------------------------------------------------------------- the experiment

def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset)
    split = carve_validation(data, config.validation_fraction, config.seed)
    optimizer = protocol_optimizer(config.optimizer, config.weight_decay)
    # Each large model trains beside the compilation of its pruning programs.
    jobs = [job for kind in config.models for job in (
        functools.partial(train_large, config, kind, split, data.num_classes, optimizer, session),
        functools.partial(compile_pruning, config, kind, split, data.num_classes))]
    larges = map_independent(lambda job: job(), jobs)[::2]
    groups = [group for large in larges for group in prune(config, large, data.num_classes, split)]
    return _results(config, larges, retrain(config, groups))


def _results(config: Config, larges: list[Large], retrained: list[Retrained]) -> Results:
    results = Results()
    order = sorted(retrained, key=lambda r: (config.models.index(r.pruned.setting.model),
                                             r.pruned.setting.kind != "structured", r.pruned.setting.amount))
    rows, grid_rows = [], []
    for large in larges:
        rows.append({"model": large.kind, "pruning": "none (large model)", "variant": "trained",
                     "lr": config.learning_rate, "steps": config.steps, "FLOPs % of large": 100.0,
                     "val accuracy": float("nan"), "test accuracy": float(np.mean(large.accuracy)),
                     "std": float(np.std(large.accuracy))})
    for r in order:
        rows += _setting_rows(config, r)
        grid_rows += _grid_rows(config, r)
    results.tables[TABLE] = rows
    results.tables["Validation accuracy over the grids (the choice marked)"] = grid_rows
    for variant in ("not retrained", "fine-tuned (paper)", *VARIANTS):
        for kind in ("structured", "unstructured"):
            chosen = [r for r in order if r.pruned.setting.kind == kind]
            results.arrays[f"{kind}/{variant}"] = np.stack([r.test(variant) for r in chosen])
        results.arrays[f"high/{variant}"] = np.stack(
            [r.test(variant) for r in order if r.pruned.setting.kind == "unstructured"
             and r.pruned.setting.amount == max(config.sparsities)])
    results.arrays["finetune/eval_step"] = order[0].grids["fine-tuned"].steps
    results.arrays["finetune/val_curve"] = np.stack(
        [r.grids["fine-tuned"].val[r.chosen("fine-tuned").index] for r in order])  # (settings, points, seeds)
    results.arrays["finetune/paper_steps"] = np.array(order[0].paper_finetune_steps)
    results.notes += _notes(config, order, results)
    return results


def _setting_rows(config: Config, r: Retrained) -> list[dict]:
    p = r.pruned
    common_cols = {"model": p.setting.model, "pruning": f"{p.setting.kind} {p.setting.amount:.0%}",
                   "architecture": "-".join(map(str, p.architecture)),
                   "FLOPs % of large": round(100 * p.flops / p.large_flops, 1)}

    def row(variant, lr, steps, val, test):
        return {**common_cols, "variant": variant, "lr": lr, "steps": steps, "val accuracy": val,
                "test accuracy": float(np.mean(test)), "std": float(np.std(test))}

    ft = r.grids["fine-tuned"]
    paper = r.paper_choice()
    out = [row("pruned, not retrained", 0.0, 0, float("nan"), r.not_retrained),
           row("fine-tuned (paper: final lr, 1/4 length)", paper.value, paper.step,
               float(np.mean(ft.val[paper.index, paper.point])), ft.test_at(paper))]
    for variant in VARIANTS:
        c, grid = r.chosen(variant), r.grids[variant]
        steps = c.step if variant == "fine-tuned" else budget(
            config, p.scratch_b_factor if variant == "scratch-B" else 1.0)
        out.append(row(f"{variant} (tuned)", c.value, steps, float(np.mean(grid.val[c.index, c.point])),
                       grid.test_at(c)))
    return out


def _grid_rows(config: Config, r: Retrained) -> list[dict]:
    out = []
    for variant in VARIANTS:
        grid, c = r.grids[variant], r.chosen(variant)
        for i, lr in enumerate(grid.values):
            val = np.nanmean(grid.val[i], axis=-1)
            point = int(np.nanargmax(val)) if variant == "fine-tuned" else len(grid.steps) - 1
            out.append({"setting": r.pruned.setting.label(), "method": variant, "lr": float(lr),
                        "best length": int(grid.steps[point]) if variant == "fine-tuned" else "fixed",
                        "val accuracy": float(val[point]), "chosen": "<-" if i == c.index else ""})
    return out


def _notes(config: Config, order: list[Retrained], results: Results) -> list[str]:
    cap = ("uncapped" if config.scratch_b_max_factor is None
           else f"capped at {config.scratch_b_max_factor:g}x")
    notes = [
        f"Unstructured scope: {config.scope}. Scratch-B's budget: FLOPs_full / FLOPs_pruned x steps, {cap}.",
        f"Fine-tuning lr grid {[f'{f:g}x' for f in config.finetune_grid()]} of the peak lr "
        f"{config.learning_rate:g}, length up to {config.steps} steps (every {config.chunk}); Scratch-E/B "
        f"peak lr grid {[f'{f:g}x' for f in config.scratch_lr_factors]}; chosen by mean validation accuracy "
        f"on {config.validation_fraction:.0%} of the training data.",
    ]
    for r in order:
        tuned, paper = r.test("fine-tuned"), r.test("fine-tuned (paper)")
        e, b = r.test("scratch-E"), r.test("scratch-B")
        notes.append(f"{r.pruned.setting.label()}: fine-tuned tuned {np.mean(tuned):.3f} (paper protocol "
                     f"{np.mean(paper):.3f}); scratch-E - fine-tuned {np.mean(e - tuned):+.3f}, "
                     f"scratch-B - fine-tuned {np.mean(b - tuned):+.3f}.")
    edges = [f"{r.pruned.setting.label()} {v}" for r in order for v in VARIANTS
             if len(r.grids[v].values) > 1 and r.chosen(v).index == len(r.grids[v].values) - 1]
    if edges:
        notes.append(f"Chosen at the top of its lr grid ({len(edges)} of {len(order) * len(VARIANTS)}): "
                     f"{', '.join(edges)}; a larger lr might do better still.")
    curve = np.nanmean(results.arrays["finetune/val_curve"], axis=-1)  # (settings, points)
    last_gain = curve[:, -1] - curve[:, len(curve[0]) // 2]
    notes.append(f"Fine-tuning plateau: validation accuracy at the chosen lr gains {np.max(last_gain):+.3f} "
                 f"at most (over settings) in the second half of its {config.steps} steps.")
    return notes


def figures(results: Results, directory) -> None:
    rows = results.tables[TABLE]
    settings = list(dict.fromkeys((r["model"], r["pruning"]) for r in rows if r["variant"] != "trained"))
    fig, axes = plots.new_figure(ncols=2, width=5.5)
    ax = axes[0, 0]
    variants = [v for v in dict.fromkeys(r["variant"] for r in rows) if v not in ("trained",)]
    x = np.arange(len(settings))
    width = 0.8 / len(variants)
    for j, v in enumerate(variants):
        got = [next(r for r in rows if (r["model"], r["pruning"]) == s and r["variant"] == v) for s in settings]
        ax.bar(x + (j - len(variants) / 2 + 0.5) * width, [g["test accuracy"] for g in got], width,
               yerr=[g["std"] for g in got], label=v.replace(" (paper: final lr, 1/4 length)", " (paper)"),
               capsize=2)
    low = min(r["test accuracy"] for r in rows if r["variant"] != "pruned, not retrained")
    ax.set_ylim(max(0.0, low - 0.1), 1.0)
    ax.set_xticks(x, [f"{m} {p}".replace("structured", "str.") for m, p in settings], rotation=40, ha="right")
    ax.set(ylabel="test accuracy", title="pruned, then retrained (tuned on validation)")
    ax.legend(fontsize=6, ncol=2, loc="upper right")
    ax = axes[0, 1]
    steps = results.arrays["finetune/eval_step"]
    for s, curve in zip(settings, results.arrays["finetune/val_curve"]):
        plots.seed_band(ax, steps, curve, f"{s[0]} {s[1]}")
    ax.axvline(float(results.arrays["finetune/paper_steps"]), color="k", ls=":", lw=1, label="paper's length")
    ax.set(xlabel="fine-tuning step", ylabel="validation accuracy", title="fine-tuning at its chosen lr")
    ax.legend(fontsize=6)
    plots.save(fig, directory, "finetune_vs_scratch", **results.arrays)


# ---------------------------------------------------------------- claims

def worst_gap(kind: str, a: str, b: str):
    """Smallest over settings of the paired (same seed) difference a - b of test accuracy."""
    def measure(r: Results) -> stats.Measurement:
        return stats.smallest(*[stats.paired_difference(x, y)
                                for x, y in zip(r.arrays[f"{kind}/{a}"], r.arrays[f"{kind}/{b}"])])
    return measure


def synthetic(offsets: dict[str, float], settings: int = 2, seeds: int = 5, spread: float = 0.005) -> Results:
    """Per-seed accuracies 0.8 + offset[variant] (+ a small seed pattern) for every kind; the
    network not retrained 0.3 below fine-tuning unless told otherwise."""
    offsets = {"not retrained": -0.3} | offsets
    noise = spread * np.linspace(-1, 1, seeds)
    arrays = {}
    for kind in ("structured", "unstructured", "high"):
        for variant in ("not retrained", "fine-tuned (paper)", *VARIANTS):
            pattern = noise[::-1] if variant == "scratch-B" else noise
            arrays[f"{kind}/{variant}"] = np.tile(0.8 + offsets.get(variant, 0.0) + pattern, (settings, 1))
    return Results(arrays=arrays)


NOT_RETRAINED = "the pruned network, not retrained, in scratch's place"
_not_retrained = lambda: synthetic({"scratch-E": -0.3, "scratch-B": -0.3})  # noqa: E731

CLAIMS = [
    Claim(
        statement="structured (L1-norm): tuned Scratch-B matches or beats tuned fine-tuning (worst setting, "
        f"paired over seeds, low end above -{MATCH_MARGIN})",
        paper="VGG-16-A: 93.78 vs 93.41",
        measure=worst_gap("structured", "scratch-B", "fine-tuned"),
        region=at_least(-MATCH_MARGIN),
        control=Control(name=NOT_RETRAINED, results=_not_retrained),
        passing=lambda: synthetic({"scratch-B": 0.01}),
        baseline=worst_gap("structured", "not retrained", "fine-tuned"),
        fmt="{:+.3f}",
    ),
    Claim(
        statement="structured (L1-norm): tuned Scratch-E matches or beats tuned fine-tuning (worst setting, "
        f"paired, low end above -{MATCH_MARGIN})",
        paper="VGG-16-A: 93.62 vs 93.41",
        measure=worst_gap("structured", "scratch-E", "fine-tuned"),
        region=at_least(-MATCH_MARGIN),
        control=Control(name=NOT_RETRAINED, results=_not_retrained),
        passing=lambda: synthetic({"scratch-E": 0.01}),
        baseline=worst_gap("structured", "not retrained", "fine-tuned"),
        fmt="{:+.3f}",
    ),
    Claim(
        statement="unstructured, highest sparsity: tuned Scratch-E lags tuned fine-tuning (fine-tuned - E > 0, "
        "worst model, paired)",
        paper="lags on ImageNet; ~matches on CIFAR",
        measure=worst_gap("high", "fine-tuned", "scratch-E"),
        region=above(0.0),
        control=Control(
            name="Scratch-E against itself (A/A)", results=lambda: synthetic({"fine-tuned": 0.0, "scratch-E": 0.0})
        ),
        passing=lambda: synthetic({"scratch-E": -0.05}),
        fmt="{:+.3f}",
    ),
    Claim(
        statement="unstructured, highest sparsity: tuned Scratch-B roughly matches tuned fine-tuning (worst model, "
        f"paired, low end above -{MATCH_MARGIN})",
        paper="roughly matches",
        measure=worst_gap("high", "scratch-B", "fine-tuned"),
        region=at_least(-MATCH_MARGIN),
        control=Control(name=NOT_RETRAINED, results=_not_retrained),
        passing=lambda: synthetic({"scratch-B": 0.0}),
        baseline=worst_gap("high", "not retrained", "fine-tuned"),
        fmt="{:+.3f}",
    ),
]


if __name__ == "__main__":
    main(NAME)
