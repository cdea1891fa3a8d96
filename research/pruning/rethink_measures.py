"""prune-rethink's claim measures on its records in Results, and the synthetic Results of the
claims' controls and passing cases."""

import numpy as np

from common import records, stats
from common.experiment import NotRunAtPreset, Results, Undecided, near
from research.pruning import rethink_study
from research.pruning.criterion import Criterion, Curve, stack
from research.pruning.rethink_study import (
    KINDS,
    LABELS,
    METHOD_KEYS,
    Accuracies,
    Rerun,
    criterion_key,
)

# "Matches": two one-sided tests inside +-2 points, about one per-seed spread here, as Liu et al.'s
# "comparable" few tenths are at their spread (docs/notes/pruning.md). The quick run's largest
# per-seed spread of a paired difference, and the seeds that gives two one-sided tests 80% power.
MATCH_MARGIN = 0.02
EQUIVALENCE_SPREAD = 0.038
EQUIVALENCE_SEEDS = stats.seeds_for_equivalence(EQUIVALENCE_SPREAD, MATCH_MARGIN)
# The training criterion (research/pruning/criterion.py): 10 points above chance, and a curve flat to
# within the equivalence margin (a larger move could change a verdict).
ABOVE_CHANCE = 0.1


def put_training(results: Results, chance: float, larges: list, kinds: dict[str, list]) -> Criterion:
    """The criterion at this chance level and every arm's Curve (the large models' (`Large`), each kind's
    (`Retrained`) per method) into `results`; the criterion."""
    return put_curves(results, Criterion(chance, ABOVE_CHANCE, MATCH_MARGIN), stack([g.training for g in larges]),
                      {kind: rethink_study.training_curves(chosen) for kind, chosen in kinds.items()})


def put_curves(results: Results, rule: Criterion, large: Curve, by_kind: dict[str, dict[str, Curve]]) -> Criterion:
    records.put(results, "criterion", rule)
    records.put(results, criterion_key("large"), large)
    for kind, curves in by_kind.items():
        for method, curve in curves.items():
            records.put(results, records.key(criterion_key(kind), method), curve)
    return rule


def require_trained(r: Results, kind: str, *methods: str) -> None:
    """Undecided unless the large model and each compared method trained (`Criterion.require`)."""
    rule = records.get(r, "criterion", Criterion)
    rule.require("the large model", records.get(r, criterion_key("large"), Curve), unit="model")
    for method in methods:
        rule.require(f"{LABELS[method]} ({kind})", records.get(r, records.key(criterion_key(kind), method), Curve))


def arms_of(r: Results, kind: str, *methods: str) -> Accuracies:
    """The kind's accuracies; Undecided when a compared arm (or the large model) did not train, or its lr
    is still on an edge of its widened grid."""
    require_trained(r, kind, *methods)
    got = records.get(r, kind, Accuracies)
    for method in methods:
        edges = np.asarray(getattr(got, f"{method}_edge"), bool)
        if edges.any():
            raise Undecided(f"{LABELS[method]}'s lr is still on an edge of its widened grid in {edges.sum()} "
                            f"of {edges.size} {kind} setting(s) (see the tuning table): the grid decides")
    return got


def lags(kind: str, a: str, b: str):
    """a - b > 0 in every setting: the smallest paired difference over settings (t over seeds)."""
    def measure(r: Results) -> stats.Measurement:
        got = arms_of(r, kind, a, b)
        return stats.smallest(*[stats.paired_difference(x, y) for x, y in zip(getattr(got, a), getattr(got, b))])
    return measure


def matches(kind: str, a: str, b: str, baseline: str | None = None):
    """a matches b within +-MATCH_MARGIN in every setting: two one-sided tests per setting (the paired
    difference's 90% t interval), their hull; not run when this run has fewer seeds than the tests
    need at its per-seed spread (stats.seeds_for_equivalence). `baseline`: that arm in a's place."""
    def measure(r: Results) -> stats.Measurement:
        got = arms_of(r, kind, a, b) if baseline is None else records.get(r, kind, Accuracies)
        x, y = getattr(got, baseline or a), getattr(got, b)
        needed = max(stats.seeds_for_equivalence(float(np.std(d, ddof=1)), MATCH_MARGIN) for d in x - y)
        if baseline is None and x.shape[1] < needed:
            raise NotRunAtPreset("equivalence", f"two one-sided tests at +-{MATCH_MARGIN} need {needed} seeds at "
                                 f"this run's per-seed spread, it ran {x.shape[1]}")
        return stats.hull([stats.equivalence(xi, yi, MATCH_MARGIN) for xi, yi in zip(x, y)], 0.0, "settings")
    return measure


def paper_in_place_note(r: Results) -> list[str]:
    """The "matches" claims' run-time control (the paper's fine-tuning in scratch's place, against tuned
    fine-tuning), as a note: the report's control column is empty where a claim is not run at this preset."""
    paper = lambda kind: matches(kind, "finetuned_paper", "finetuned", baseline="finetuned_paper")(r)
    hulls = {kind: paper(kind) for kind in ("structured", "high")}
    shown = [f"{kind} {m.value:+.3f} [{m.interval[0]:+.3f}, {m.interval[1]:+.3f}] "
             f"({near(0.0, MATCH_MARGIN).verdict(m)})" for kind, m in hulls.items()]
    return [f"Run-time control of the \"matches\" claims: fine-tuning at the paper's final lr and length minus "
            f"tuned fine-tuning, two one-sided tests at +-{MATCH_MARGIN} (hull over settings): {'; '.join(shown)}."]


def rerun_lag(r: Results) -> stats.Measurement:
    """The A/A control of `lags`: Scratch-E rerun at its chosen lr with other batches, against itself."""
    got, again = records.get(r, "high", Accuracies), records.get(r, "high_rerun", Rerun)
    return stats.smallest(*[stats.paired_difference(x, y) for x, y in zip(again.scratch_e, got.scratch_e)])


def synthetic(offsets: dict[str, float], seeds: int = EQUIVALENCE_SEEDS, spread: float = EQUIVALENCE_SPREAD,
              edge: str | None = None, untrained: str | None = None) -> Results:
    """`rethink_study.synthetic`'s accuracies of every kind as Results, every arm trained (validation 0.6 on
    a flat curve) but `untrained` ("large" or a method), left at chance."""
    results = Results()
    for kind, got in rethink_study.synthetic(offsets, seeds, spread, edge).items():
        records.put(results, kind, got)
    curve = lambda arm: Curve(*np.array([[0.1 if arm == untrained else 0.6] * 2, [0.6] * 2, [0.0] * 2]))
    put_curves(results, Criterion(0.1, ABOVE_CHANCE, MATCH_MARGIN), curve("large"),
                 {kind: {method: curve(method) for method in METHOD_KEYS} for kind in KINDS})
    return results
