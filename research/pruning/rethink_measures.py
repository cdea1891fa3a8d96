"""prune-rethink's claim measures on its records in Results, and the synthetic Results of the
claims' controls and passing cases."""

import numpy as np

from common import records, stats
from common.experiment import NotRunAtPreset, Results, Undecided
from research.pruning import rethink_study
from research.pruning.rethink_study import LABELS, Accuracies, Rerun

# "Matches": two one-sided tests inside +-2 points, about one per-seed spread here, as Liu et al.'s
# "comparable" few tenths are at their spread (docs/claims/pruning.md). The quick run's largest
# per-seed spread of a paired difference, and the seeds that gives two one-sided tests 80% power.
MATCH_MARGIN = 0.02
EQUIVALENCE_SPREAD = 0.038
EQUIVALENCE_SEEDS = stats.seeds_for_equivalence(EQUIVALENCE_SPREAD, MATCH_MARGIN)


def arms_of(r: Results, kind: str, *methods: str) -> Accuracies:
    """The kind's accuracies; Undecided when a compared arm's lr is still on an edge of its widened grid."""
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


def rerun_lag(r: Results) -> stats.Measurement:
    """The A/A control of `lags`: Scratch-E rerun at its chosen lr with other batches, against itself."""
    got, again = records.get(r, "high", Accuracies), records.get(r, "high_rerun", Rerun)
    return stats.smallest(*[stats.paired_difference(x, y) for x, y in zip(again.scratch_e, got.scratch_e)])


def synthetic(offsets: dict[str, float], seeds: int = EQUIVALENCE_SEEDS, spread: float = EQUIVALENCE_SPREAD,
              edge: str | None = None) -> Results:
    """`rethink_study.synthetic`'s accuracies of every kind as Results."""
    results = Results()
    for kind, got in rethink_study.synthetic(offsets, seeds, spread, edge).items():
        records.put(results, kind, got)
    return results
