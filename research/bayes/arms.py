"""A swept classification fit as named records: which members of a fit belong to which method,
its scores split per method as (members, seeds), a `Pool` of every setting trained so far, the
tuning of every method together (`tune_together`: `common.tuning.tune` with its widenings, one
training round for all methods at a time), and each method's `Arm`: its grid, the choice on
validation error, the protocol's member and its per-seed scores and curves."""

from collections.abc import Callable
from functools import partial
from typing import Literal, NamedTuple

import numpy as np

from common import records, stats, tuning
from common.experiment import Results
from common.train import FitResult
from research.bayes import scoring, test_noise


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


MEMBER_AXIS = {"prune_error": 1, "train_nll": 1, "validation_loss": 1}  # else 0: the axis of the members


def by_method(scores: dict, trained: dict[str, Trained], fit_names: tuple[str, ...], seeds: int) -> dict:
    """Scores of the runs of `fit_names` (concatenated in that order) split per method, each with its
    runs axis (`MEMBER_AXIS`) as (members, seeds)."""
    out, offset = {}, 0
    for fit_name in fit_names:
        for name, members in trained[fit_name].methods.items():
            where = slice(members.start + offset, members.stop + offset)
            out[name] = {k: _member_axis(np.asarray(v), where, seeds, MEMBER_AXIS.get(k, 0))
                         for k, v in scores.items()}
        offset += trained[fit_name].out.shape[0]
    return out


def with_curves(scores: dict, trained: dict[str, Trained], n_fit: int) -> dict:
    """Each method's scores with its logged curves (points, members, seeds): the likelihood term of the
    training loss, the validation loss, and the final KL / N (unscaled; NaN without a KL term)."""
    out = {}
    for fitted in trained.values():
        history = fitted.out.history
        for name in fitted.methods:
            curves = {"train_nll": fitted.curves(name, "train/nll" if "train/nll" in history else "train/loss"),
                      "validation_loss": fitted.curves(name, "eval/loss")}
            kl = (fitted.curves(name, "train/kl")[-1] / n_fit if "train/kl" in history
                  else np.full(curves["train_nll"].shape[1:], np.nan))
            out[name] = scores[name] | curves | {"kl_per_example": kl}
    return out


PLAIN_FIT = "plain-and-dropout"  # the fit of the plain and dropout networks; every other fit is Bayesian


def score_round(model, trained: dict[str, Trained], inputs: scoring.Inputs, control_keys_S, draw_key, *, n_fit: int,
                **options) -> dict:
    """Every run of a round's fits scored (`scoring.score_fits` with `options`), split per method, with
    its curves (`with_curves`): by method, (members, seeds, ...)."""
    plain, bayes_fits = trained.get(PLAIN_FIT), tuple(name for name in trained if name != PLAIN_FIT)
    plain_scores, bayes_scores = scoring.score_fits(
        model, None if plain is None else plain.out.state, tuple(trained[n].out.state.params for n in bayes_fits),
        inputs, control_keys_S, draw_key, **options)
    scores, seeds = {}, len(control_keys_S)
    for fit_names, fit_scores in (((PLAIN_FIT,), plain_scores), (bayes_fits, bayes_scores)):
        if fit_scores is not None:
            scores |= by_method(fit_scores, trained, fit_names, seeds)
    return with_curves(scores, trained, n_fit)


class Missing(Exception):
    """A method's settings not trained yet (asked of a `Pool`): the next training round trains them."""

    def __init__(self, method: str, values: tuple[float, ...]):
        super().__init__(f"{method} not trained at {values}")
        self.method, self.values = method, values


class Pool:
    """Every setting of every method trained so far: method -> value -> its scores and curves (the
    member axis taken out), and the steps of the curves (every round trains as long)."""

    def __init__(self, length: int):
        self.length, self.settings, self.rounds = length, {}, 0
        self.steps = self.eval_steps = None

    def add(self, trained: dict[str, Trained], scores: dict, values: dict[str, tuple[float, ...]]) -> None:
        """A round's methods' scores (`with_curves`), their members at `values` (by method)."""
        for method, grid in values.items():
            for m, value in enumerate(grid):
                self.settings.setdefault(method, {})[value] = {
                    k: np.take(v, m, axis=MEMBER_AXIS.get(k, 0)) for k, v in scores[method].items()}
        history = next(iter(trained.values())).out.history
        self.steps, self.eval_steps = np.array(history["step"]), np.array(history["eval_step"])
        self.rounds += 1

    def stacked(self, method: str, values: tuple[float, ...]) -> dict:
        """The method's scores and curves at `values`, their member axes in that order."""
        settings = [self.settings[method][v] for v in values]
        return {k: np.stack([s[k] for s in settings], axis=MEMBER_AXIS.get(k, 0)) for k in settings[0]}

    def scores(self, method: str, values: tuple[float, ...]) -> tuning.Scores:
        """Validation and test error at `values` (lower is better, at the end of training); `Missing`
        when a value is not trained yet."""
        missing = tuple(v for v in values if v not in self.settings.get(method, {}))
        if missing:
            raise Missing(method, missing)
        errors = self.stacked(method, values)
        return tuning.Scores(values, (self.length,), errors["validation_error"][:, None],
                             errors["test_error"][:, None], higher_is_better=False)


def tune_together(sweeps: dict[str, "Sweep"], train_round: Callable[[dict], None], pool: Pool,
                  max_widenings: int) -> dict[str, tuning.Tuned]:
    """`tuning.tune` of every method on its sweep (`choose` for a single setting), in rounds: each round
    `train_round({method: values})` trains, as one call, the settings the methods' tuning asked for and
    the pool lacks (the first round: the grids; then one widening per method on an edge) into `pool`."""
    while True:
        tuned, missing = {}, {}
        for method, sweep in sweeps.items():
            scores_on = partial(pool.scores, method)
            try:
                tuned[method] = (tuning.tune(scores_on, sweep.values, name=sweep.hyperparameter,
                                             max_widenings=max_widenings, fixed_length=True)
                                 if len(sweep.values) > 1 else
                                 tuning.choose(scores_on(sweep.values), sweep.hyperparameter, fixed_length=True))
            except Missing as need:
                missing[method] = need.values
        if not missing:
            return tuned
        train_round(missing)


def _member_axis(values: np.ndarray, members: slice, seeds: int, axis: int) -> np.ndarray:
    """The runs axis (members x seeds, member-major) of `values` split into (members, seeds), sliced."""
    shaped = values.reshape(*values.shape[:axis], -1, seeds, *values.shape[axis + 1:])
    return np.take(shaped, np.arange(shaped.shape[axis])[members], axis=axis)


QUANTITIES = ("validation_error", "test_error", "validation_nll", "test_nll", "test_ece", "test_entropy", "ood_entropy")


class Arm(NamedTuple):
    """A method's sweep: its grid (widened where the choice was on an edge), one-hot masks over it (the
    member chosen on validation error, the protocol's, validation NLL's choice), per (member, seed)
    scores, seed 0's reliability bins at the choice, and the logged curves (points, members, seeds)."""

    grid: np.ndarray
    widenings: int  # values added beyond an edge of the configured grid (common.tuning.tune)
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


def tuned(grid: np.ndarray, validation_error_MxS: np.ndarray, widenings: int, hyperparameter: str) -> tuning.Tuned:
    """The choice on validation error as `tuning.tune` made it over this (widened) grid: its edge, if any."""
    scores = tuning.Scores(tuple(grid), (0,), validation_error_MxS[:, None], validation_error_MxS[:, None],
                           higher_is_better=False)
    return tuning.choose(scores, hyperparameter, fixed_length=True, widenings=int(widenings))


def require_interior(results: Results, name: str, hyperparameter: str) -> None:
    """`Undecided` (the comparison inconclusive, with the reason) when method `name`'s choice is still on
    an edge of its grid after the widenings."""
    read = lambda field: results.arrays[records.key(name, field)]
    tuned(read("grid"), read("validation_error_MxS"), results.scalars[records.key(name, "widenings")],
          hyperparameter).require_interior(name)


class Pruning(NamedTuple):
    """A prior's SNR pruning: test error per fraction removed (F, members, seeds), the cost of removing
    95%, and seed 0's histogram of 10 log10 SNR per member."""

    prune_error_FxMxS: np.ndarray
    prune_drop_95_MxS: np.ndarray
    snr_counts_MxB: np.ndarray


def choice(values: tuple[float, ...], validation_MxS: np.ndarray) -> int:
    """The member of lowest mean validation score over seeds (`tuning.choose` at the last evaluation)."""
    return tuned(np.array(values), validation_MxS, 0, "setting").index


def arm(method: str, sweep: Sweep, choice_made: tuning.Tuned, pool: Pool) -> "Arm":
    """A method's record over the grid it was tuned on (`choice_made`, the sweep's grid and its widenings):
    the choice on validation error (and on NLL, for the report)."""
    values = choice_made.scores.values
    scores, chosen, protocol = pool.stacked(method, values), choice_made.index, values.index(sweep.values[sweep.protocol])

    def one_hot(index: int) -> np.ndarray:
        return np.arange(len(values)) == index

    return Arm(grid=np.array(values), widenings=choice_made.widenings, chosen_M=one_hot(chosen),
               protocol_M=one_hot(protocol), chosen_by_nll_M=one_hot(choice(values, scores["validation_nll"])),
               **{f"{q}_MxS": scores[q].astype(float) for q in QUANTITIES},
               test_wrong_chosen_SxN=scores["test_wrong"][chosen], test_wrong_protocol_SxN=scores["test_wrong"][protocol],
               kl_per_example_MxS=scores["kl_per_example"],
               **{f"reliability_{k}": scores[f"reliability_{k}"][chosen, 0] for k in ("confidence", "accuracy",
                                                                                       "count")},
               train_nll=scores["train_nll"], validation_loss=scores["validation_loss"], step=pool.steps,
               eval_step=pool.eval_steps)


def setting_rows(method: str, arm: Arm, setting: str, paper: dict, prune_drop_95_MxS: np.ndarray | None) -> list[dict]:
    """A method's rows of the report's sweep table, one per setting (mean over seeds): its role, every score,
    the `paper`'s columns, the NLL's choice and whether training reached its plateau (`scoring.plateau_gain`)."""
    rows = []
    for m, value in enumerate(arm.grid):
        mean = {q: float(np.mean(getattr(arm, f"{q}_MxS")[m])) for q in (*QUANTITIES, "kl_per_example")}
        if prune_drop_95_MxS is not None:
            mean["prune_drop_95"] = float(np.mean(prune_drop_95_MxS[m]))
        gain = scoring.plateau_gain(arm.validation_loss[:, m])
        rows.append({"method": method, "setting": f"{setting} {value:g}",
                     "role": ", ".join(role for role in ("chosen", "protocol") if m == arm.member(role)),
                     **{q.replace("_", " "): v for q, v in mean.items()},
                     "test error std over seeds": float(np.std(arm.test_error_MxS[m])), **paper,
                     "NLL's choice": "yes" if m == arm.member("chosen_by_nll") else "",
                     "plateau (validation gain < 1% in the last third)": "yes" if np.all(gain < 0.01) else "no"})
    return rows


def pruning(scores: dict, fractions: tuple[float, ...], at: float, snr_bins_db: np.ndarray) -> Pruning:
    """A prior's `Pruning` from its scores: the cost of removing the fraction `at`, seed 0's SNR histogram."""
    errors = scores["prune_error"].astype(float)
    return Pruning(errors, errors[fractions.index(at)] - errors[0], np.stack([
        np.histogram(10 * np.log10(snr), snr_bins_db)[0] for snr in scores["snr"][:, 0]]))


class PruningControl(NamedTuple):
    """The control of "SNR pruning is nearly free" at the mixture's KL scale 1: 95% removed at random."""

    random_95_drop_per_seed: np.ndarray
    random_95_error_per_seed: np.ndarray
    fractions: np.ndarray
    snr_bin_edges_db: np.ndarray
    drop_95: float  # the SNR pruning's mean cost, for comparison


def pruning_control(random_error_MxS: np.ndarray, pruned: Pruning, protocol: int, fractions: tuple[float, ...],
                    snr_bins_db: np.ndarray) -> PruningControl:
    """Removing at random against removing by SNR, at the member `protocol` (test error %, per seed)."""
    random_S = random_error_MxS[protocol].astype(float)
    return PruningControl(random_S - pruned.prune_error_FxMxS[0, protocol], random_S, np.array(fractions), snr_bins_db,
                          float(np.mean(pruned.prune_drop_95_MxS[protocol])))


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


def pruning_rows(pruned: Pruning, grid: np.ndarray, fractions: tuple[float, ...], paper: dict[float, float],
                 control: PruningControl, control_fraction: float) -> list[dict]:
    """The report's pruning table (Table 2): test error % per fraction removed by KL scale (mean over seeds),
    the paper's number beside it, and the control's cost of removing `control_fraction` at random."""
    return [{"weights removed": f"{100 * fraction:.0f}%", "paper (MNIST, 1200 units)": paper[fraction],
             **{f"KL scale {v:g}": float(np.mean(pruned.prune_error_FxMxS[f, m])) for m, v in enumerate(grid)}}
            for f, fraction in enumerate(fractions)] + [
        {"weights removed": f"{100 * control_fraction:.0f}% at random (the control, KL scale 1): points added",
         "KL scale 1": float(np.mean(control.random_95_drop_per_seed))}]


def at_member(results: Results, name: str, role: str, quantity: str) -> np.ndarray:
    """Per-seed samples of `quantity` at the member of method `name` in `role` ("chosen" or "protocol")."""
    return results.arrays[records.key(name, f"{quantity}_MxS")][int(np.argmax(results.arrays[records.key(
        name, f"{role}_M")]))]


def gap(results: Results, role: str, worse: str, better: str, quantity: str,
        hyperparameter: dict[str, str]) -> stats.Measurement:
    """`worse` - `better` in `quantity`, each at its member in `role`, paired by seed; at the choice,
    `Undecided` while either choice is on an edge of its grid (of `hyperparameter[name]`) after the widenings."""
    for name in (worse, better) if role == "chosen" else ():
        require_interior(results, name, hyperparameter[name])
    return stats.paired_difference(at_member(results, worse, role, quantity), at_member(results, better, role, quantity))


def self_gap(results: Results, role: str, name: str, quantity: str) -> stats.Measurement:
    """An A/A pair measured in the run: method `name` against itself in `quantity` at its member in `role`,
    seed s against seed s + 1 (a gap of equal methods: the seeds' noise alone, centred on 0)."""
    x = at_member(results, name, role, quantity)
    return stats.paired_difference(x, np.roll(x, 1))


def folded_error_gap(results: Results, role: str, name: str, other_S: np.ndarray) -> stats.Measurement:
    """|test error of method `name` at its member in `role` - `other_S`| (per seed, e.g. another network's
    errors), paired by seed."""
    return test_noise.folded(stats.paired_difference(at_member(results, name, role, "test_error"), other_S))


def error_gap(results: Results, role: str, worse: str, better: str, hyperparameter: dict[str, str]):
    """`gap` in test error (points), with the test set's sampling noise (`test_noise.with_test_noise`)."""
    return test_noise.with_test_noise(gap(results, role, worse, better, "test_error", hyperparameter), *(
        results.arrays[records.key(name, f"test_wrong_{role}_SxN")] for name in (worse, better)))


def synthetic_sweeps(at_protocol: dict[str, float], at_choice: dict[str, float], quantity: str = "test_error",
                     spread: float = 0.1, chosen: int = 1) -> Results:
    """Claims' controls: three-member sweeps per method (member 0 the protocol, member `chosen` the choice: 1
    inside the grid, 2 its highest edge), five seeds, `quantity` around the given means (the choice's at the
    choice, the protocol's elsewhere), no test-set noise: a control passing at another member shows the claim
    reads its own."""
    results = Results()
    for name, protocol_value in at_protocol.items():
        at = np.where(np.arange(3) == chosen, at_choice[name], protocol_value)
        arrays = {"grid": [0.1, 1.0, 10.0], "protocol_M": np.arange(3) == 0, "chosen_M": np.arange(3) == chosen,
                  "validation_error_MxS": np.where(np.arange(3) == chosen, 1.0, 2.0)[:, None] * np.ones(5),
                  "test_wrong_chosen_SxN": np.zeros((5, 10)), "test_wrong_protocol_SxN": np.zeros((5, 10)),
                  f"{quantity}_MxS": at[:, None] + spread * np.linspace(-1, 1, 5)}
        results.arrays |= {records.key(name, k): np.asarray(v) for k, v in arrays.items()}
        results.scalars[records.key(name, "widenings")] = 0.0
    return results
