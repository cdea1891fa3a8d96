"""A swept classification fit as named records: which members of a fit belong to which method,
its scores split per method as (members, seeds), and each method's `Arm`: its grid, the choice on
validation error (`common.tuning.choose`), the protocol's member and its per-seed scores and curves."""

from typing import Literal, NamedTuple

import numpy as np

from common import records, tuning
from common.experiment import Results
from common.train import FitResult


class Sweep(NamedTuple):
    """One method's grid: the swept hyperparameter, its values (ascending) and the index of
    the protocol setting (the paper's KL scale 1, or the shared learning rate)."""

    hyperparameter: Literal["kl_scale", "learning_rate"]
    values: tuple[float, ...]
    protocol: int

    @classmethod
    def of(cls, hyperparameter, values, protocol: float) -> "Sweep":
        grid = tuple(sorted({float(v) for v in values} | {float(protocol)}))
        return cls(hyperparameter, grid, grid.index(float(protocol)))


class Trained(NamedTuple):
    """A fit's runs (members x seeds, member-major) and which members belong to which method."""

    out: FitResult
    methods: dict[str, slice]

    @classmethod
    def of(cls, out: FitResult, counts: dict[str, int]) -> "Trained":
        """The fit's members in blocks of `counts` members, one block per method in order."""
        ends = np.cumsum(list(counts.values()))
        return cls(out, {name: slice(int(end - n), int(end)) for (name, n), end in zip(counts.items(), ends)})

    def curves(self, name: str, metric: str) -> np.ndarray:
        """A logged metric of method `name`'s members, (points, members, seeds)."""
        return self.out.grid(metric)[:, self.methods[name]]


def by_method(scores: dict, trained: dict[str, Trained], fit_names: tuple[str, ...], seeds: int) -> dict:
    """Scores of the runs of `fit_names` (concatenated in that order) split per method, each with its
    runs axis (axis 1 for "prune_error", else 0) as (members, seeds)."""
    out, offset = {}, 0
    for fit_name in fit_names:
        for name, members in trained[fit_name].methods.items():
            where = slice(members.start + offset, members.stop + offset)
            out[name] = {k: _member_axis(np.asarray(v), where, seeds, 1 if k == "prune_error" else 0)
                         for k, v in scores.items()}
        offset += trained[fit_name].out.shape[0]
    return out


def _member_axis(values: np.ndarray, members: slice, seeds: int, axis: int) -> np.ndarray:
    """The runs axis (members x seeds, member-major) of `values` split into (members, seeds), sliced."""
    shaped = values.reshape(*values.shape[:axis], -1, seeds, *values.shape[axis + 1:])
    return np.take(shaped, np.arange(shaped.shape[axis])[members], axis=axis)


QUANTITIES = ("validation_error", "test_error", "validation_nll", "test_nll", "test_ece", "test_entropy", "ood_entropy")


class Arm(NamedTuple):
    """A method's sweep: its grid, one-hot masks over it (the member chosen on validation error, the
    protocol's, validation NLL's choice), per (member, seed) scores, seed 0's reliability bins at the
    choice, and the logged curves (points, members, seeds) with their steps."""

    grid: np.ndarray
    chosen_M: np.ndarray
    protocol_M: np.ndarray
    chosen_by_nll_M: np.ndarray
    validation_error_MxS: np.ndarray
    test_error_MxS: np.ndarray
    validation_nll_MxS: np.ndarray
    test_nll_MxS: np.ndarray
    test_ece_MxS: np.ndarray
    test_entropy_MxS: np.ndarray
    ood_entropy_MxS: np.ndarray
    test_wrong_chosen_SxN: np.ndarray  # which test examples each seed gets wrong, at the choice
    test_wrong_protocol_SxN: np.ndarray
    kl_per_example_MxS: np.ndarray  # KL / N at the end, unscaled (NaN without a KL term)
    reliability_confidence: np.ndarray
    reliability_accuracy: np.ndarray
    reliability_count: np.ndarray
    train_nll: np.ndarray  # the likelihood term alone (BBB's loss adds the scaled KL / N)
    validation_loss: np.ndarray
    step: np.ndarray
    eval_step: np.ndarray

    def member(self, role: str) -> int:
        """The member in `role`: "chosen", "protocol" or "chosen_by_nll"."""
        return int(np.argmax(getattr(self, f"{role}_M")))


class Pruning(NamedTuple):
    """A prior's SNR pruning: test error per fraction removed (F, members, seeds), the cost of removing
    95%, and seed 0's histogram of 10 log10 SNR per member."""

    prune_error_FxMxS: np.ndarray
    prune_drop_95_MxS: np.ndarray
    snr_counts_MxB: np.ndarray


def choice(sweep: Sweep, validation_MxS: np.ndarray, test_MxS: np.ndarray) -> int:
    """The member of lowest mean validation score over seeds (`tuning.choose` at the last evaluation)."""
    lower = tuning.Scores(sweep.values, (0,), validation_MxS[:, None], test_MxS[:, None], higher_is_better=False)
    return tuning.choose(lower, sweep.hyperparameter, fixed_length=True).index


def arm(name: str, sweep: Sweep, scores: dict, fitted: Trained, n_fit: int) -> "Arm":
    """A method's record: the choice on validation error (and on NLL, for the report)."""
    def one_hot(index: int) -> np.ndarray:
        return np.arange(len(sweep.values)) == index

    chosen = choice(sweep, scores["validation_error"], scores["test_error"])
    wrong = scores["test_wrong"]
    kl = (fitted.curves(name, "train/kl")[-1] / n_fit if "train/kl" in fitted.out.history
          else np.full(scores["test_error"].shape, np.nan))
    return Arm(grid=np.array(sweep.values), chosen_M=one_hot(chosen), protocol_M=one_hot(sweep.protocol),
               chosen_by_nll_M=one_hot(choice(sweep, scores["validation_nll"], scores["test_error"])),
               **{f"{q}_MxS": scores[q].astype(float) for q in QUANTITIES},
               test_wrong_chosen_SxN=wrong[chosen], test_wrong_protocol_SxN=wrong[sweep.protocol],
               kl_per_example_MxS=kl,
               **{f"reliability_{k}": scores[f"reliability_{k}"][chosen, 0] for k in ("confidence", "accuracy",
                                                                                       "count")},
               train_nll=fitted.curves(name, "train/nll" if "train/nll" in fitted.out.history else "train/loss"),
               validation_loss=fitted.curves(name, "eval/loss"),
               step=np.array(fitted.out.history["step"]), eval_step=np.array(fitted.out.history["eval_step"]))


def pruning(scores: dict, fractions: tuple[float, ...], at: float, snr_bins_db: np.ndarray) -> Pruning:
    """A prior's `Pruning` from its scores: the cost of removing the fraction `at`, seed 0's SNR histogram."""
    errors = scores["prune_error"].astype(float)
    return Pruning(errors, errors[fractions.index(at)] - errors[0], np.stack([
        np.histogram(10 * np.log10(snr), snr_bins_db)[0] for snr in scores["snr"][:, 0]]))




class PruningControl(NamedTuple):
    """The control of "SNR pruning is nearly free" at the mixture's KL scale 1: 95% removed at random."""

    random_95_drop_per_seed: np.ndarray
    fractions: np.ndarray
    snr_bin_edges_db: np.ndarray
    drop_95: float  # the SNR pruning's mean cost, for comparison


def pruning_control(random_error_MxS: np.ndarray, pruned: Pruning, protocol: int, fractions: tuple[float, ...],
                    snr_bins_db: np.ndarray) -> PruningControl:
    """Removing at random against removing by SNR, at the member `protocol` (test error %, per seed)."""
    return PruningControl(random_error_MxS[protocol].astype(float) - pruned.prune_error_FxMxS[0, protocol],
                          np.array(fractions), snr_bins_db, float(np.mean(pruned.prune_drop_95_MxS[protocol])))


class Summary(NamedTuple):
    """Mean test error over seeds at the choice and at the protocol (the run's scalars)."""

    test_error: float
    test_error_protocol: float

    @classmethod
    def of(cls, arm: "Arm") -> "Summary":
        errors = arm.test_error_MxS.mean(axis=1)
        return cls(float(errors[arm.member("chosen")]), float(errors[arm.member("protocol")]))


def read(results: Results, names: tuple[str, ...]) -> dict[str, Arm]:
    """The `Arm` of each of `names`, as `common.records.put` stored it."""
    return {name: records.get(results, name, Arm) for name in names}
