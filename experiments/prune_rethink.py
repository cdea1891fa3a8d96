"""Rethinking the value of network pruning: fine-tuning against Scratch-E and Scratch-B.

    python run.py prune-rethink --preset quick                     # MLP + CNN on MNIST-1D
    python run.py prune-rethink --preset large                     # the same, GPU-sized
    python run.py prune-rethink --preset paper --data-dir DATA     # small VGG-style CNN, CIFAR-10

Liu et al. (2019, arXiv 1810.05270) train a large model, prune it, and compare
fine-tuning the surviving weights with training the pruned architecture from a
fresh init for the same epochs (Scratch-E) or for the same compute
(Scratch-B: epochs x FLOPs_full / FLOPs_pruned). For predefined architectures
(L1-norm filter pruning) they find Scratch-E/B match or beat fine-tuning, e.g.
CIFAR-10 VGG-16-A 93.41 (fine-tuned) / 93.62 (E) / 93.78 (B); for unstructured
magnitude pruning Scratch-E lags at high sparsity on large data and Scratch-B
roughly matches.

Protocol here (Sec. 4 of the paper, scaled down): large model trained for
`steps` with lr x0.1 at 50% and 75%; fine-tuning for `finetune_fraction` of
that (40/160 epochs in the paper) at `finetune_lr_factor` x the peak lr (the
paper: the schedule's final lr, 0.01 x; here 0.1 x by default); Scratch-E
for `steps`, Scratch-B for `steps` x min(FLOPs ratio, `scratch_b_max_factor`)
(the cap is ours: it bounds the compute of the quick preset and is shown in the
table). Structured: L1-norm pruning of every hidden layer's neurons (MLP) or
filters (CNN) at each of `structured_ratios`, giving a smaller network.
Unstructured: magnitude masks at each of `sparsities`, held in the optimizer
state. For one architecture, every (pruning setting, seed) of a variant
(fine-tuned, Scratch-E, Scratch-B) is one vmapped program. The large models,
then the pruning settings, train side by side in threads (two cores here).
"""

from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from common import plots
from common.config import require_at_least_one
from common.experiment import Claim, Results
from common.models import CNN, MLP
from common.parallel import map_independent
from common.train import Loop, classifier_evaluation, epoch_batches, fit, seed_keys, supervised_step
from common.nn import accuracy as accuracy_of
from research.pruning import apply_masks, dense_masks
from research.pruning_flops import network_flops, weight_positions
from research.pruning_masks import magnitude_masks
from research.pruning_protocol import protocol_optimizer, run_init, run_members
from research.pruning_structured import l1_keep_indices, prune_units

NAME = "prune-rethink"
STUDY = "pruning"
PAPER = "Liu et al. 2019, Rethinking the Value of Network Pruning (ICLR)"
REPRODUCES = ("Tables 1-4 protocol: fine-tuned vs Scratch-E vs Scratch-B after structured "
              "(L1-norm) and unstructured (magnitude) pruning; CIFAR-10 VGG-16-A 93.41/93.62/93.78")
# Wall seconds of the quick preset on the idle 2-core CPU (/usr/bin/time, 2026-11-27): 39 with a
# warm compilation cache, 94 on a cold one (171 s of CPU, compiles included).
QUICK_SECONDS = 40

VARIANTS = ("fine-tuned", "scratch-E", "scratch-B")


@dataclass(frozen=True)
class Config:
    """Train large, prune, then fine-tune vs Scratch-E vs Scratch-B (test accuracy)."""

    seeds: int = 5
    """Independent seeds, every one in the same vmapped program."""
    dataset: Literal["mnist1d", "cifar10"] = "mnist1d"
    models: tuple[str, ...] = ("mlp", "cnn")
    """Which of "mlp" and "cnn" to prune."""
    mlp_widths: tuple[int, ...] = (100, 100)
    cnn_channels: tuple[int, ...] = (16, 16, 16)
    cnn_kernel: int = 5
    steps: int = 600
    """Steps of the large model and of Scratch-E (the paper's 160 epochs)."""
    finetune_fraction: float = 0.25
    """Fine-tuning steps / steps (40 of 160 epochs in the paper)."""
    batch_size: int = 100
    optimizer: Literal["sgd", "adam"] = "adam"
    learning_rate: float = 1e-2
    """Peak lr of the large model and Scratch-E/B; x0.1 at 50% and 75% of each run."""
    finetune_lr_factor: float = 0.1
    """Fine-tuning lr / peak lr. The paper fine-tunes at its schedule's final lr (0.001 =
    0.01 x 0.1) for 40 epochs; for the few hundred Adam steps here that lr barely moves the
    pruned weights (quick, structured 75% MLP: 0.14 -> 0.17), so the default fine-tunes at
    the schedule's middle lr (-> 0.40); 0.01 gives the paper's."""
    weight_decay: float = 0.0
    structured_ratios: tuple[float, ...] = (0.5, 0.75)
    """Fraction of each hidden layer's neurons / filters removed (L1-norm)."""
    sparsities: tuple[float, ...] = (0.3, 0.6, 0.9)
    """Unstructured magnitude sparsities."""
    scope: Literal["layer", "global"] = "layer"
    """Unstructured pruning per layer or over all weights."""
    scratch_b_max_factor: float = 2.0
    """Cap on Scratch-B's step multiplier FLOPs_full / FLOPs_pruned."""
    chunk: int = 100
    """Steps per compiled lax.scan; every budget is rounded to a multiple of it."""
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "steps", "batch_size", "chunk", "cnn_kernel"))
        if not set(self.models) <= {"mlp", "cnn"} or not self.models:
            raise ValueError(f"models must be a non-empty subset of mlp, cnn (got {self.models})")
        for r in (*self.structured_ratios, *self.sparsities):
            if not 0.0 < r < 1.0:
                raise ValueError(f"pruning ratios and sparsities must be in (0, 1) (got {r})")
        if not 0.0 < self.finetune_fraction <= 1.0:
            raise ValueError(f"finetune_fraction must be in (0, 1] (got {self.finetune_fraction})")
        if not (self.learning_rate > 0 and self.finetune_lr_factor > 0):
            raise ValueError("learning_rate and finetune_lr_factor must be positive")
        if self.scratch_b_max_factor < 1.0:
            raise ValueError(f"scratch_b_max_factor must be >= 1 (got {self.scratch_b_max_factor})")
        if self.steps < self.chunk:
            raise ValueError(f"steps ({self.steps}) must be at least chunk ({self.chunk})")


PRESETS = {
    "quick": Config(),
    # MNIST-1D at GPU size: 10 seeds, wider nets, five times the steps.
    "large": Config(seeds=10, mlp_widths=(300, 300), cnn_channels=(32, 32, 32), steps=3000, chunk=250),
    "paper": Config(dataset="cifar10", models=("cnn",), cnn_channels=(64, 128, 256, 256),
                    cnn_kernel=3, steps=8000, batch_size=128, optimizer="sgd",
                    learning_rate=0.05, weight_decay=1e-4, chunk=200),
}


def batched(fn):
    """jit(vmap(fn)): one compile, where an eager vmap compiles every primitive on its own."""
    return jax.jit(jax.vmap(fn))


def make_model(config: Config, kind: str, num_classes: int, widths=None):
    if kind == "mlp":
        return MLP(tuple(widths or config.mlp_widths), num_classes)
    return CNN(tuple(widths or config.cnn_channels), num_classes, kernel=config.cnn_kernel,
               stride=2, padding=config.cnn_kernel // 2)


def budget(config: Config, multiplier: float) -> int:
    """`steps x multiplier`, rounded to whole chunks (at least one)."""
    return max(1, round(config.steps * multiplier / config.chunk)) * config.chunk


@dataclass
class Spec:
    """One variant of one pruning setting, for every seed (leading axis of params/masks)."""

    label: str
    params: dict
    masks: dict
    lr: float
    steps: int
    decays: bool


def train_specs(name, model, specs, config, data, optimizer, session):
    """Final test accuracy (seeds,) and final params (seeds leading) of every spec.

    The specs of one variant (fine-tuned, scratch-E or scratch-B, over all
    pruning settings of one architecture) x seeds are one vmapped program, run
    for the longest budget among them; a run whose budget is spent has lr 0 and
    stays as it ended. Grouping by variant keeps idle steps few (budgets within a
    group are close); the groups of one call have the same shapes and share one
    step function, so they share one compiled program (`compile_chunk` is cached)."""
    n = config.seeds
    base = seed_keys(config.seed, n)
    accuracy, params = {}, {}
    step, evaluate = supervised_step(model, optimizer), classifier_evaluation(model)
    for variant in dict.fromkeys(s.label.split("/")[-1] for s in specs):
        group = [s for s in specs if s.label.split("/")[-1] == variant]
        keys = jnp.stack([batched(lambda k, t=t: jax.random.fold_in(k, t))(base)
                          for t in range(len(group))])  # (members, seeds)
        stack = lambda *xs: jnp.stack(xs)  # noqa: E731
        members = run_members(
            jax.tree.map(stack, *[s.params for s in group]), jax.tree.map(stack, *[s.masks for s in group]),
            [s.lr for s in group], [s.steps for s in group], [s.decays for s in group],
            [{"run": s.label} for s in group],
        )
        out = fit(f"{name}/{variant}", init=run_init(optimizer), step=step,
                  sample_batch=epoch_batches(config.batch_size), data=(data.x_train, data.y_train),
                  loop=Loop(steps=max(s.steps for s in group), chunk=config.chunk), keys=keys,
                  members=members, evaluate=evaluate, eval_data=(data.x_test, data.y_test),
                  session=session)
        final = out.curve("eval/accuracy")[-1]
        for i, s in enumerate(group):
            accuracy[s.label] = final[i * n:(i + 1) * n]
            params[s.label] = jax.tree.map(lambda a, i=i: a[i * n:(i + 1) * n], out.state.params)
    return accuracy, params


def accuracy_without_training(model, params, data) -> np.ndarray:
    """Test accuracy (seeds,) of params with a leading seed axis, without any training."""
    x, y = jnp.asarray(data.x_test), jnp.asarray(data.y_test)
    return np.asarray(batched(lambda p: accuracy_of(model.apply(p, {}, x)[0], y))(params))


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset)
    optimizer = protocol_optimizer(config.optimizer, config.weight_decay)

    # Two stages of independent trainings, each spread over threads (`map_independent`):
    # the large models, then every pruning setting of every model. Longest tasks first, so
    # the threads finish together: unstructured (every sparsity in one task) before the
    # structured ratios, and within a setting the models in reverse order (the default's
    # CNN is the slower one on the CPU: 40 s of fits against 21 s for the MLP, warm cache).
    larges = map_independent(lambda kind: train_large(config, kind, data, optimizer, session),
                             config.models)
    settings = ["unstructured"] + [f"structured{r}" for r in config.structured_ratios]
    tasks = [(large, setting) for setting in settings for large in reversed(larges)]
    parts = dict(zip([(large.kind, setting) for large, setting in tasks], map_independent(
        lambda task: retrain_pruned(config, *task, data, optimizer, session), tasks)))

    results, rows = Results(), []
    for large in larges:  # the table in config order: large, structured ratios, unstructured
        results.arrays[f"{large.kind}/large"] = large.accuracy
        rows.append(_row(large.kind, "none (large model)", "trained", large.accuracy, large.flops,
                         large.flops, 1.0))
        for setting in settings[1:] + settings[:1]:
            part_rows, arrays, scalars = parts[(large.kind, setting)]
            rows += part_rows
            results.arrays.update(arrays)
            results.scalars.update(scalars)
    results.tables["Test accuracy (mean +- std over seeds)"] = rows
    _summary_scalars(config, results)
    results.notes.extend(_notes(config, results))
    return results


@dataclass
class Large:
    """A trained large model: what every pruning setting starts from."""

    kind: str
    model: object
    trained: dict  # params, seeds leading
    accuracy: np.ndarray  # (seeds,)
    example: dict  # seed 0's initial params: shapes for FLOP counts
    positions: object  # weight_positions of the large model
    flops: float  # FLOPs of the large model


def train_large(config: Config, kind: str, data, optimizer, session) -> Large:
    seeds = seed_keys(config.seed, config.seeds)
    x1 = data.x_train[:1]
    model = make_model(config, kind, data.num_classes)
    init_params = batched(lambda k, m=model: m.init_variables(k, x1)[0])(seeds)
    one = jax.tree.map(lambda a: a[0], init_params)
    positions = weight_positions(lambda p, x, m=model: m.apply(p, {}, x)[0], one, x1)
    dense = Spec("large", init_params, batched(dense_masks)(init_params),
                 config.learning_rate, config.steps, True)
    acc, final = train_specs(f"{kind}/large", model, [dense], config, data, optimizer, session)
    return Large(kind, model, final["large"], acc["large"], one, positions, network_flops(one, positions))


def retrain_pruned(config: Config, large: Large, setting: str, data, optimizer, session):
    """Prune `large` one way ("structured<ratio>" or "unstructured": every sparsity), then
    fine-tune, Scratch-E and Scratch-B: (rows, arrays, scalars)."""
    if setting == "unstructured":
        return _unstructured(config, large, data, optimizer, session)
    return _structured(config, large, float(setting[len("structured"):]), data, optimizer, session)


def finetune_schedule(config: Config) -> tuple[int, float]:
    """Fine-tuning's (steps, constant lr): `finetune_fraction` of the budget at
    `finetune_lr_factor` x the peak lr."""
    return budget(config, config.finetune_fraction), config.learning_rate * config.finetune_lr_factor


def _structured(config: Config, large: Large, ratio: float, data, optimizer, session):
    kind, trained, results, rows = large.kind, large.trained, Results(), []
    seeds, x1 = seed_keys(config.seed, config.seeds), data.x_train[:1]
    ft_steps, ft_lr = finetune_schedule(config)
    keep = batched(lambda p, r=ratio: l1_keep_indices(p["layers"], r))(trained)
    small_params = batched(lambda p, k: {"layers": prune_units(p["layers"], k)})(trained, keep)
    small_widths = [k.shape[-1] for k in keep]
    small = make_model(config, kind, data.num_classes, small_widths)
    fresh = batched(lambda k, m=small: m.init_variables(jax.random.fold_in(k, 1), x1)[0])(seeds)
    flops = network_flops(jax.tree.map(lambda a: a[0], fresh), large.positions)
    factor = min(large.flops / flops, config.scratch_b_max_factor)
    masks = batched(dense_masks)(fresh)
    specs = [Spec("fine-tuned", small_params, masks, ft_lr, ft_steps, False),
             Spec("scratch-E", fresh, masks, config.learning_rate, config.steps, True),
             Spec("scratch-B", fresh, masks, config.learning_rate, budget(config, factor), True)]
    acc, _ = train_specs(f"{kind}/structured{ratio}", small, specs, config, data, optimizer, session)
    setting = f"structured {ratio:.0%} ({'-'.join(map(str, small_widths))})"
    rows.append(_row(kind, setting, "pruned, not retrained",
                     accuracy_without_training(small, small_params, data), large.flops, flops, 0.0))
    for v in VARIANTS:
        rows.append(_row(kind, setting, v, acc[v], large.flops, flops, _factor(specs, v, config)))
        results.arrays[f"{kind}/structured{ratio}/{v}"] = acc[v]
    _gap_scalars(results, f"{kind}/structured{ratio}", acc)
    return rows, results.arrays, results.scalars


def _unstructured(config: Config, large: Large, data, optimizer, session):
    kind, model, trained, results, rows = large.kind, large.model, large.trained, Results(), []
    seeds, x1 = seed_keys(config.seed, config.seeds), data.x_train[:1]
    ft_steps, ft_lr = finetune_schedule(config)
    specs, flops_of = [], {}
    fresh = batched(lambda k, m=model: m.init_variables(jax.random.fold_in(k, 2), x1)[0])(seeds)
    for s in config.sparsities:
        masks = batched(lambda p, s=s: magnitude_masks(p, s, config.scope))(trained)
        flops_of[s] = network_flops(large.example, large.positions, jax.tree.map(lambda a: a[0], masks))
        factor = min(large.flops / flops_of[s], config.scratch_b_max_factor)
        specs += [Spec(f"{s}/fine-tuned", trained, masks, ft_lr, ft_steps, False),
                  Spec(f"{s}/scratch-E", fresh, masks, config.learning_rate, config.steps, True),
                  Spec(f"{s}/scratch-B", fresh, masks, config.learning_rate, budget(config, factor),
                       True)]
    acc_all, _ = train_specs(f"{kind}/unstructured", model, specs, config, data, optimizer, session)
    for s in config.sparsities:
        acc = {v: acc_all[f"{s}/{v}"] for v in VARIANTS}
        pruned = apply_masks(trained, next(x.masks for x in specs if x.label == f"{s}/fine-tuned"))
        rows.append(_row(kind, f"unstructured {s:.0%}", "pruned, not retrained",
                         accuracy_without_training(model, pruned, data), large.flops, flops_of[s], 0.0))
        for v in VARIANTS:
            rows.append(_row(kind, f"unstructured {s:.0%}", v, acc[v], large.flops, flops_of[s],
                             _factor(specs, f"{s}/{v}", config)))
            results.arrays[f"{kind}/unstructured{s}/{v}"] = acc[v]
        _gap_scalars(results, f"{kind}/unstructured{s}", acc)
    return rows, results.arrays, results.scalars


def _factor(specs, label, config) -> float:
    return next(s.steps for s in specs if s.label == label) / config.steps


def _row(kind, setting, variant, acc, full_flops, flops, factor) -> dict:
    return {"model": kind, "pruning": setting, "variant": variant,
            "FLOPs % of large": round(100 * flops / full_flops, 1), "steps / large": round(factor, 2),
            "test accuracy": float(np.mean(acc)), "std": float(np.std(acc))}


def _gap_scalars(results, prefix, acc) -> None:
    """Scratch minus fine-tuned (mean over seeds) and the spread of that difference."""
    spread = float(np.sqrt(np.var(acc["scratch-B"]) + np.var(acc["fine-tuned"])))
    results.scalars[f"{prefix}/B_minus_FT"] = float(np.mean(acc["scratch-B"]) - np.mean(acc["fine-tuned"]))
    results.scalars[f"{prefix}/E_minus_FT"] = float(np.mean(acc["scratch-E"]) - np.mean(acc["fine-tuned"]))
    results.scalars[f"{prefix}/spread"] = spread


def _summary_scalars(config, results) -> None:
    """Worst case over models and settings of `gap + spread` (>= 0: scratch within the spread)."""
    s = results.scalars
    structured = [f"{k}/structured{r}" for k in config.models for r in config.structured_ratios]
    high = [f"{k}/unstructured{max(config.sparsities)}" for k in config.models]
    s["structured/B_margin"] = min(s[f"{p}/B_minus_FT"] + s[f"{p}/spread"] for p in structured)
    s["structured/E_margin"] = min(s[f"{p}/E_minus_FT"] + s[f"{p}/spread"] for p in structured)
    s["unstructured_high/FT_minus_E"] = float(np.mean([-s[f"{p}/E_minus_FT"] for p in high]))
    s["unstructured_high/B_margin"] = min(s[f"{p}/B_minus_FT"] + s[f"{p}/spread"] for p in high)


def _notes(config, results) -> list[str]:
    notes = [
        f"Scratch-B's step multiplier is FLOPs_full / FLOPs_pruned capped at "
        f"{config.scratch_b_max_factor:g} (column 'steps / large'); fine-tuning runs "
        f"{config.finetune_fraction:g} x steps at {config.finetune_lr_factor:g} x the peak lr.",
        "The paper fine-tunes for 40 CIFAR epochs (~16k steps) at its final lr; compare the "
        "'pruned, not retrained' rows to see how far the fine-tuning budget moved the weights "
        "before reading a scratch > fine-tuned gap as the paper's effect.",
    ]
    for key, value in sorted(results.scalars.items()):
        if key.endswith("/B_minus_FT"):
            prefix = key[: -len("/B_minus_FT")]
            e, spread = results.scalars[f"{prefix}/E_minus_FT"], results.scalars[f"{prefix}/spread"]
            notes.append(f"{prefix}: scratch-E - fine-tuned = {e:+.3f}, scratch-B - fine-tuned = "
                         f"{value:+.3f} (spread {spread:.3f}).")
    return notes


def figures(results: Results, directory) -> None:
    rows = results.tables["Test accuracy (mean +- std over seeds)"]
    kinds = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plots.new_figure(ncols=len(kinds), width=5.0)
    for ax, kind in zip(axes[0], kinds):
        pruned = [r for r in rows if r["model"] == kind and r["variant"] in VARIANTS]
        settings = list(dict.fromkeys(r["pruning"] for r in pruned))
        x = np.arange(len(settings))
        for j, v in enumerate(VARIANTS):
            mean = [next(r["test accuracy"] for r in pruned if r["pruning"] == s and r["variant"] == v)
                    for s in settings]
            std = [next(r["std"] for r in pruned if r["pruning"] == s and r["variant"] == v)
                   for s in settings]
            ax.bar(x + (j - 1) * 0.27, mean, 0.27, yerr=std, label=v, capsize=2)
        large = next(r for r in rows if r["model"] == kind and r["variant"] == "trained")
        ax.axhline(large["test accuracy"], color="k", ls=":", lw=1, label="large model")
        low = min(r["test accuracy"] - r["std"] for r in pruned + [large])
        ax.set_ylim(max(0.0, low - 0.05), min(1.0, large["test accuracy"] + 0.2))
        ax.set_xticks(x, [s.split(" (")[0].replace("structured", "struct.") for s in settings],
                      rotation=30, ha="right")
        ax.set(ylabel="test accuracy", title=f"{kind}: pruned, then trained")
        ax.legend(fontsize=7, ncol=2, loc="upper right")
    plots.save(fig, directory, "finetune_vs_scratch", **results.arrays)


# Each comparison is measured as (scratch - fine-tuned) + spread, worst case over
# models and settings, where spread = sqrt(var_scratch + var_fine-tuned) over
# seeds: >= 0 means scratch is not below fine-tuning by more than the seed spread.
CLAIMS = [
    Claim("structured (L1-norm): Scratch-B matches or beats fine-tuning (within the seed spread)",
          "VGG-16-A: 93.78 vs 93.41", lambda r: r.scalars["structured/B_margin"], lambda v: v >= 0,
          fmt="{:+.3f}"),
    Claim("structured (L1-norm): Scratch-E matches or beats fine-tuning (within the seed spread)",
          "VGG-16-A: 93.62 vs 93.41", lambda r: r.scalars["structured/E_margin"], lambda v: v >= 0,
          fmt="{:+.3f}"),
    Claim("unstructured, highest sparsity: Scratch-E lags fine-tuning (fine-tuned - E > 0)",
          "lags on ImageNet; ~matches on CIFAR", lambda r: r.scalars["unstructured_high/FT_minus_E"],
          lambda v: v > 0, fmt="{:+.3f}"),
    Claim("unstructured, highest sparsity: Scratch-B roughly matches fine-tuning (within the spread)",
          "roughly matches", lambda r: r.scalars["unstructured_high/B_margin"], lambda v: v >= 0,
          fmt="{:+.3f}"),
]
