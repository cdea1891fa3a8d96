"""selu-training's computations: the networks (registries of DeepMLP keywords), the records of a
tuned arm and their report rows, the claims' measures (SELU minus ReLU + BatchNorm, once both trained)
and the synthetic contract case. Training itself (`common.train.fit`) stays in experiments/selu/training.py.
"""

from typing import NamedTuple

import numpy as np

from common import records, stats, tuning
from common.experiment import NotRunAtPreset, Results, Undecided
from research.selu.snn import DeepMLP

SNN, BATCHNORM = "SELU", "ReLU + BatchNorm"
ALPHA_DROPOUT, PLAIN_DROPOUT = "SELU + alpha dropout", "SELU + plain dropout"
# name: DeepMLP keywords (activation, init, ...); the pair always, the baselines by Config.baselines,
# the dropout networks at Config.dropout_depth when dropout_rate > 0.
PAIR = {SNN: {"activation": "selu", "init": "lecun"},
        BATCHNORM: {"activation": "relu", "init": "he", "batchnorm": True}}
BASELINES = {"ReLU": {"activation": "relu", "init": "he"}, "tanh": {"activation": "tanh", "init": "lecun"}}
DROPOUT_NETWORKS = {ALPHA_DROPOUT: {"activation": "selu", "init": "lecun", "dropout": "alpha"},
                    PLAIN_DROPOUT: {"activation": "selu", "init": "lecun", "dropout": "plain"}}


PAPER_LR = 1e-5 * 128  # the reference's summed-loss step, on the batch mean


class Grid(NamedTuple):
    """One network's whole learning-rate grid (one fit): per-lr, per-seed curves and divergence."""

    step: np.ndarray  # (chunks,)
    train_loss: np.ndarray  # (chunks, lrs, seeds)
    eval_step: np.ndarray  # (evaluations,)
    val_loss: np.ndarray  # (evaluations, lrs, seeds), NaN where the run diverged
    diverged: np.ndarray  # (lrs, seeds) bool


class Arm(NamedTuple):
    """One network at one depth: its (widened) grid's finals, and the curves at its chosen lr (NaN: no choice)."""

    learning_rates: np.ndarray  # (lrs,)
    final_val_by_lr: np.ndarray  # (lrs, seeds)
    final_train_by_lr: np.ndarray  # (lrs, seeds)
    diverged_by_lr: np.ndarray  # (lrs, seeds) bool
    train_loss: np.ndarray  # (chunks, seeds)
    val_loss: np.ndarray  # (evaluations, seeds)
    chosen_lr: float
    on_edge: float  # 1: the choice is an end of the widened grid
    step: np.ndarray  # (chunks,): the x axis of train_loss
    eval_step: np.ndarray  # (evaluations,): of val_loss


class Criterion(NamedTuple):
    """When an arm counts as trained: its mean final training loss at most `threshold`."""

    chance: float  # ln(classes), the loss of the uniform prediction
    threshold: float


# An arm has trained once its final training loss has removed a fifth of chance's: at most 0.8 ln(classes).
TRAINED_FRACTION = 0.8


def arm_name(depth: int, network: str) -> str:
    """The records prefix of one network at one depth."""
    return f"depth{depth}/{network}"


def scores(grid: Grid, lrs) -> tuning.Scores:
    """The grid's validation losses, a lr where any seed diverged out (NaN). Only the validation split is
    scored: the claims read training loss."""
    validation = np.moveaxis(grid.val_loss, 0, 1).copy()  # (lrs, evaluations, seeds)
    validation[grid.diverged.any(1)] = np.nan
    return tuning.Scores(lrs, grid.eval_step, validation, np.full_like(validation, np.nan), higher_is_better=False)


def seed_mean(values: np.ndarray) -> np.ndarray:
    """Mean over the last (seeds) axis of the runs that have a value; NaN, silently, where none has."""
    values = np.asarray(values, float)
    count = (~np.isnan(values)).sum(-1)
    return np.where(count > 0, np.nansum(values, -1) / np.maximum(count, 1), np.nan)


def cost(model: DeepMLP) -> float:
    """Rough relative time of a network's fit: BatchNorm and dropout about double a layer."""
    return model.depth * (1 + model.batchnorm + (model.dropout_rate > 0))


def record_arm(results: Results, depth: int, name: str, tuned_grid, configured_lrs) -> tuple[list, dict]:
    """The arm's record, its grid rows (lrs beyond `configured_lrs` marked widened) and its row at the choice."""
    lrs, grid, tuned = tuned_grid
    at = (lambda a: a[:, tuned.index]) if tuned else (lambda a: np.full_like(a[:, 0], np.nan))
    arm = Arm(lrs, grid.val_loss[-1], grid.train_loss[-1], grid.diverged, at(grid.train_loss), at(grid.val_loss),
              tuned.value if tuned else float("nan"), float(bool(tuned and tuned.edge)), grid.step, grid.eval_step)
    records.put(results, arm_name(depth, name), arm)
    mean_val = seed_mean(arm.final_val_by_lr)
    mean_train = seed_mean(np.where(grid.diverged, np.nan, arm.final_train_by_lr))
    grid_rows = [{"depth": depth, "network": name,
                  "lr": f"{lr:g}" + ("" if lr in configured_lrs else " (widened)")
                  + (" (paper)" if lr == PAPER_LR else ""),
                  "final validation loss (mean)": float(mean_val[i]),
                  "final training loss (mean)": float(mean_train[i]),
                  "diverged seeds": int(grid.diverged[i].sum()), "chosen": "<-" if tuned and i == tuned.index else ""}
                 for i, lr in enumerate(lrs)]
    best = {"depth": depth, "network": name, "chosen lr": tuned.value if tuned else "none (all diverged)",
            "final training loss (mean)": float(mean_train[tuned.index]) if tuned else float("nan"),
            "final validation loss (mean)": float(mean_val[tuned.index]) if tuned else float("nan"),
            "edge": tuned.edge if tuned else None, "widenings": tuned.widenings if tuned else 0}
    return grid_rows, best


def arm_or_none(results: Results, depth: int, name: str) -> Arm | None:
    try:
        return records.get(results, arm_name(depth, name), Arm)
    except KeyError:
        return None


def difference(r: Results, depth: int, what: str) -> stats.Measurement:
    """SELU minus ReLU + BatchNorm final `what` ("train" or "val") loss at their chosen lrs, paired over seeds
    (not run where the config's depths leave `depth` out)."""
    selu, bn = arm_or_none(r, depth, SNN), arm_or_none(r, depth, BATCHNORM)
    if selu is None or bn is None:
        raise NotRunAtPreset("quick", f"this run trained no depth-{depth} networks")
    return stats.paired_difference(getattr(selu, f"{what}_loss")[-1], getattr(bn, f"{what}_loss")[-1])


def untrained(r: Results, depth: int) -> list[str]:
    """The compared arms at `depth` whose mean final training loss misses the criterion (with the value)."""
    criterion = records.get(r, "criterion", Criterion)
    finals = {n: float(seed_mean(arm.train_loss[-1])) for n in (SNN, BATCHNORM) if (arm := arm_or_none(r, depth, n))}
    return [f"{n} ({final:.3f} > {criterion.threshold:.3f})" for n, final in finals.items()
            if not final <= criterion.threshold]


def gap(depth: int):
    """The claim's measure: the training-loss difference, once both arms have trained."""
    def measure(r: Results) -> stats.Measurement:
        measured = difference(r, depth, "train")
        for name in (SNN, BATCHNORM):
            arm = records.get(r, arm_name(depth, name), Arm)
            if arm.on_edge:
                raise Undecided(f"{name}'s lr {arm.chosen_lr:g} at depth {depth} is an end of its widened grid "
                                f"({', '.join(f'{lr:g}' for lr in arm.learning_rates)}): the grid decides")
        if missed := untrained(r, depth):
            raise Undecided(f"did not train at depth {depth} (final training loss above {TRAINED_FRACTION:g} x "
                            f"chance): {', '.join(missed)}")
        return measured

    return measure


def self_gap(depth: int):
    """The claims' run-time control, SELU against itself on other seeds (other initializations and batches): its
    final training loss on the odd seeds minus the even ones' (Welch t), at its chosen lr; no fit of its own."""
    def measure(r: Results) -> stats.Measurement:
        selu = arm_or_none(r, depth, SNN)
        if selu is None:
            raise NotRunAtPreset("quick", f"this run trained no depth-{depth} networks")
        return stats.difference_of_means(selu.train_loss[-1][0::2], selu.train_loss[-1][1::2])

    return measure


def comparison_rows(r: Results, depths) -> list[dict]:
    """The report's SELU minus ReLU + BatchNorm rows, one per depth (training and validation loss)."""
    return [{"depth": d, **{f"{what} loss difference": f"{difference(r, d, what):+.4f}" for what in ("train", "val")},
             "arms not trained": ", ".join(untrained(r, d)) or "none"} for d in depths]


def dropout_report(results: Results, depth: int, rate: float) -> None:
    """The dropout networks' table at `depth`, against SELU without dropout (paired over seeds), and its note."""
    arms = {n: records.get(results, arm_name(depth, n), Arm) for n in (SNN, ALPHA_DROPOUT, PLAIN_DROPOUT)}
    results.tables[f"SNN dropout at depth {depth}, rate {rate} (validation loss, eval mode)"] = [
        {"network": n, "chosen lr": arms[n].chosen_lr,
         "final validation loss (mean)": float(seed_mean(arms[n].val_loss[-1])),
         "minus SELU without dropout (t 95%)":
             f"{stats.paired_difference(arms[n].val_loss[-1], arms[SNN].val_loss[-1]):+.4f}"}
        for n in (ALPHA_DROPOUT, PLAIN_DROPOUT)]
    results.notes.append("SNN dropout: no claim, the paper gives no number for this setting.")


def paired_case(selu_minus_bn: float, depths=(8, 16, 32), seeds: int = 5) -> Results:
    """Synthetic final losses (the contract cases): BN at 1.0, SELU `selu_minus_bn` away, seeds 0.01 apart."""
    spread, results = 0.01 * np.linspace(-1, 1, seeds), Results()
    bn = 1.0 + spread[::-1] * 0.5
    records.put(results, "criterion", Criterion(np.log(10), TRAINED_FRACTION * np.log(10)))
    for d in depths:
        for name, loss in ((BATCHNORM, bn), (SNN, bn + selu_minus_bn + spread)):
            grid = np.full((1, seeds), np.nan)
            records.put(results, arm_name(d, name), Arm(np.array([0.1]), grid, grid, grid > 0, loss[None], loss[None],
                                                        0.1, 0.0, np.array([1]), np.array([1])))
    return results
