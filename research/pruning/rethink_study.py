"""prune-rethink's records and the numbers computed from them (Liu et al. 2019, Sec. 4): each
retraining method's tuning on one pruned network, the per-seed accuracies the claims compare, the
report rows, and synthetic accuracies for the claims' controls."""

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np

from common import records, tuning
from common.train import fold_in_each
from research.pruning import criterion, pruned
from research.pruning.criterion import Criterion, Curve
from research.pruning.flops import weight_positions
from research.pruning.intervals import accuracy_interval
from research.pruning.programs import host, initializer, pruned_widths
from research.pruning.pruned import Large, Pruned

LABELS = {"finetuned": "fine-tuned", "scratch_e": "scratch-E", "scratch_b": "scratch-B"}  # the retraining methods
METHOD_KEYS = tuple(LABELS)
KINDS = ("structured", "unstructured", "high")  # high: unstructured at the highest sparsity


class Method(NamedTuple):
    """One way to retrain a pruned network: where it starts, its schedule, its lr grid and length."""

    label: str
    start: str  # the Pruned field it starts from
    decays: bool  # the step schedule (training) or a constant lr (fine-tuning)
    fixed_length: bool  # False: its length is tuned too (evaluated every chunk)
    lr_factors: Callable  # config -> the lr grid / peak lr
    steps: Callable  # (config, Pruned) -> steps


class Retrained(NamedTuple):
    """Every method's tuning for one pruned network, and the paper's fine-tuning protocol."""

    pruned: Pruned
    tuned: dict[str, tuning.Tuned]  # by METHOD_KEYS
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


def prune_all(large: Large, small_of, ratios, sparsities, scope: str, keys, x1, x_test, y_test) -> list[Pruned]:
    """Every structured ratio (`small_of(widths)`: the pruned architecture) and unstructured sparsity
    (one fresh init serves them all), seeds `keys`."""
    fresh = host(initializer(large.model)(fold_in_each(keys, 2), x1))
    smalls = {r: small_of(pruned_widths(large.example, r)) for r in ratios}
    return ([pruned.structured(large, smalls[r], r, keys, x1, x_test, y_test) for r in ratios]
            + [pruned.unstructured(large, s, scope, fresh, x_test, y_test) for s in sparsities])


def paper_protocol(finetuned: tuning.Tuned, lr: float, steps: int) -> tuning.Tuned:
    """The fine-tuning grid's point at the paper's lr and length."""
    scores = finetuned.scores
    index, point = scores.values.index(float(lr)), scores.steps.index(steps)
    return tuning.Tuned(finetuned.name, scores, scores.values[index], scores.steps[point], index, point, 0, None)


def criterion_key(kind: str) -> str:
    """Where the training criterion's Curves of one kind of setting (or of "large") are stored."""
    return records.key("criterion", kind)


def arm_curve(t: tuning.Tuned) -> Curve:
    """An arm's validation curve at its chosen lr, read at the point it is compared."""
    return criterion.read_curve(t.scores.validation[t.index], t.scores.steps, t.point)


def training_curves(retrained: list[Retrained]) -> dict[str, Curve]:
    """Each method's `arm_curve`, one value per setting."""
    return {key: criterion.stack([arm_curve(r.tuned[key]) for r in retrained]) for key in METHOD_KEYS}


def criterion_rows(rule: Criterion, larges: list[Large], retrained: list[Retrained]) -> list[dict]:
    """Every arm's reading of the training criterion and whether it passes."""
    arms = [(f"{large.kind} large model", large.training) for large in larges] + [
        (f"{r.pruned.setting.label()} {LABELS[key]}", arm_curve(r.tuned[key])) for r in retrained
        for key in METHOD_KEYS]
    return [{"arm": arm, "val accuracy used": float(c.used), "below its best": float(c.best - c.used),
             "rise over last quarter": float(c.rise), "trained": "yes" if rule.failure(c) is None else "NO"}
            for arm, c in arms]


def choice(t: tuning.Tuned) -> Choice:
    return Choice(t.value, t.step, len(t.scores.values), t.widenings, t.edge is not None, t.budget)


def at_last_point(t: tuning.Tuned) -> tuning.Tuned:
    """A fixed-length arm's grid as it was chosen from: each run's last evaluation only (its earlier ones
    feed the training criterion, not the choice)."""
    s = t.scores
    return dataclasses.replace(t, scores=tuning.Scores(s.values, s.steps[-1:], s.validation[:, -1:], s.test[:, -1:],
                                                       s.higher_is_better), point=0)


def tuning_rows(retrained: list[Retrained], methods: dict[str, Method]) -> tuple[dict, list[dict], list[dict]]:
    """Every arm's Choice by (setting label, method key), the rows of its validation grid (a fixed-length
    arm's at its runs' last evaluation), and the budget table's rows (`tuning.budget_rows`)."""
    choices, grids, tuned = {}, [], {}
    for r in retrained:
        for key in METHOD_KEYS:
            arm, t = f"{r.pruned.setting.label()} {LABELS[key]}", r.tuned[key]
            choices[r.pruned.setting.label(), key] = choice(t)
            grids += (at_last_point(t) if methods[key].fixed_length else t).rows(arm)
            tuned[arm] = t
    return choices, grids, tuning.budget_rows(tuned)


def is_high(p: Pruned, sparsities) -> bool:
    """Unstructured at the highest of `sparsities`."""
    return p.setting.kind == "unstructured" and p.setting.amount == max(sparsities)


def by_kind(retrained: list[Retrained], sparsities) -> dict[str, list[Retrained]]:
    """The pruned networks of each of KINDS (high: unstructured at the highest of `sparsities`)."""
    kinds = {kind: [r for r in retrained if r.pruned.setting.kind == kind] for kind in ("structured", "unstructured")}
    return kinds | {"high": [r for r in retrained if is_high(r.pruned, sparsities)]}


def notes(config, n_test: int, rule: Criterion) -> list[str]:
    """The report's notes: scope, Scratch-B's budget, the tuning, the training criterion and the intervals."""
    cap = "uncapped" if config.scratch_b_max_factor is None else f"capped at {config.scratch_b_max_factor:g}x"
    return [
        f"Unstructured scope: {config.scope}. Scratch-B's budget: FLOPs_full / FLOPs_pruned x steps, {cap}.",
        (f"Each arm starts from {len(config.finetune_grid())} lrs (fine-tuning {config.finetune_grid()}, Scratch-E/B "
         f"{config.scratch_lr_factors} x the peak lr {config.learning_rate:g}), widened up to {config.max_widenings} "
         f"times past an edge choice, chosen by mean validation accuracy on {config.validation_fraction:.0%} of the "
         "training data; fine-tuning's length is chosen too (every chunk up to steps)."),
        (f"Training criterion (every arm and the large model, each on its own curve at its chosen lr, evaluated "
         f"every {config.chunk} steps): {rule.describe()}; a claim that compares an arm failing it is inconclusive. "
         "Source: prune-lottery's rule that an undertrained baseline decides nothing (docs/notes/pruning.md), "
         "read here on each arm's own curve; the tolerance is the claims' equivalence margin, the smallest "
         "change in accuracy that could move a verdict."),
        (f"Accuracy intervals in the table: t over seeds combined with the test set's own sampling noise "
         f"(Wilson, {n_test} examples). Claims compare two arms on the same test examples and seeds: "
         "paired differences, t over seeds."),
    ]


def accuracies(retrained: list[Retrained]) -> Accuracies:
    def stack(read):
        return np.stack([read(r) for r in retrained])
    return Accuracies(stack(lambda r: r.pruned.not_retrained), stack(lambda r: r.paper.test_at_choice()),
                      *[stack(lambda r, k=key: r.tuned[k].test_at_choice()) for key in METHOD_KEYS],
                      *[stack(lambda r, k=key: float(r.tuned[k].edge is not None)) for key in METHOD_KEYS])


def finetune_curves(retrained: list[Retrained]) -> FinetuneCurves:
    """Fine-tuning's validation curve at its chosen lr, every pruned network."""
    ft = [r.tuned["finetuned"] for r in retrained]
    return FinetuneCurves(np.array(ft[0].scores.steps), np.stack([t.scores.validation[t.index] for t in ft]))


def accuracy_row(columns: dict, variant: str, lr: float, steps: int, val: float, test, n_test: int) -> dict:
    """One row of the accuracy table: mean, std and interval of the per-seed test accuracies `test`."""
    return {**columns, "variant": variant, "lr": lr, "steps": steps, "val accuracy": val,
            "test accuracy": float(np.mean(test)), "std": float(np.std(test)),
            "95% interval": f"{accuracy_interval(test, n_test):.3g}"}


def tuned_row(columns: dict, variant: str, t: tuning.Tuned, steps: int, n_test: int) -> dict:
    """The row of a tuned arm at its choice (validation accuracy: the mean over seeds there)."""
    return accuracy_row(columns, variant, t.value, steps, float(np.mean(t.scores.validation[t.index, t.point])),
                        t.test_at_choice(), n_test)


def large_row(large: Large, lr: float, steps: int, n_test: int) -> dict:
    """The large model's row (the first row sets the report's column order: FLOPs after steps)."""
    row = accuracy_row({"model": large.kind, "pruning": "none (large model)"}, "trained", lr, steps, float("nan"),
                       large.accuracy, n_test)
    return {**dict(list(row.items())[:5]), "FLOPs % of large": 100.0, **row}


def setting_rows(r: Retrained, methods: dict[str, Method], config, paper_row: str, n_test: int) -> list[dict]:
    """One pruned network's rows: not retrained, the paper's fine-tuning, every method at its choice."""
    p = r.pruned
    columns = {"model": p.setting.model, "pruning": f"{p.setting.kind} {p.setting.amount:.0%}",
               "architecture": "-".join(map(str, p.architecture)),
               "FLOPs % of large": round(100 * p.flops / p.large_flops, 1)}
    return [accuracy_row(columns, "pruned, not retrained", 0.0, 0, float("nan"), p.not_retrained, n_test),
            tuned_row(columns, paper_row, r.paper, r.paper.step, n_test),
            *[tuned_row(columns, f"{method.label} (tuned)", r.tuned[key],
                        r.tuned[key].step if not method.fixed_length else method.steps(config, p), n_test)
              for key, method in methods.items()]]


def large_start(model, seeds, x1) -> tuple[dict, dict, list[int]]:
    """The large model's init for every seed, the first seed's params and the weights' positions (FLOPs)."""
    init_params = host(initializer(model)(seeds, x1))
    one = jax.tree.map(lambda a: a[0], init_params)
    return init_params, one, weight_positions(lambda p, x: model.apply(p, {}, x)[0], one, x1)


def synthetic(offsets: dict[str, float], seeds: int, spread: float, edge: str | None = None) -> dict[str, Accuracies]:
    """Two settings of per-seed accuracies 0.6 + offset[field] + 0.01 x p for every kind, p a pattern of
    mean 0 and std 1 over seeds; the scratch arms also - spread x p, so a paired scratch - fine-tuned
    difference has per-seed spread `spread`; `edge`: that method's choice on an edge."""
    offsets = {"not_retrained": -0.3, "finetuned_paper": -0.1} | offsets
    pattern = np.linspace(-1, 1, seeds) / np.std(np.linspace(-1, 1, seeds), ddof=1)
    got = {}
    for kind in KINDS:
        accuracy = [np.tile(0.6 + offsets.get(f, 0.0) + (0.01 - spread * f.startswith("scratch")) * pattern, (2, 1))
                    for f in Accuracies._fields[:5]]
        got[kind] = Accuracies(*accuracy, *[np.full(2, float(f == f"{edge}_edge")) for f in Accuracies._fields[5:]])
    return got
