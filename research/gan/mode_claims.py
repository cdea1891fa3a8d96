"""The measures gan-mixture's claims read (a share of seeds) and their cases: the run-time controls in a
method's place and synthetic finals around given means."""

import numpy as np

from common import records, stats
from common.experiment import NotRunAtPreset, Results, Undecided
from research.gan.methods import METHODS
from research.gan.metrics import reference
from research.gan.modes import TRAINED_HQ, Finals, collapsed
from research.gan.optional_records import present


def share_of_seeds(dataset: str, methods: tuple[str, ...], success, require_trained: bool = True):
    """The share of seeds for which `success(finals by method)` holds (Wilson 95%); not run where the config
    left `dataset` or a method out; undecided where a method's mean final HQ share is below TRAINED_HQ (unless
    `require_trained` is False: a baseline is read whatever its HQ share)."""

    def measure(r: Results) -> stats.Measurement:
        ends = {m: present(r, records.key(dataset, m), Finals) for m in methods}
        if absent := [m for m, end in ends.items() if end is None]:
            raise NotRunAtPreset("quick-grid" if dataset == "grid" else "quick",
                                 f"this run has no {', '.join(absent)} covered on the {dataset}")
        if require_trained and (untrained := [f"{m} (HQ {np.nanmean(e.high_quality[-1]):.1%})" for m, e in ends.items()
                                              if not np.nanmean(e.high_quality[-1]) >= TRAINED_HQ]):
            raise Undecided(f"not trained at this budget: {', '.join(untrained)} < {TRAINED_HQ:.0%} HQ")
        hits = np.asarray(success({m: (e.covered[-1], e.high_quality[-1]) for m, e in ends.items()}))
        return stats.proportion(int(hits.sum()), hits.size)

    return measure


def around(dataset: str, means: dict[str, tuple[float, float]], seeds: int = 8) -> Results:
    """Per-seed finals around means: `means` maps a method to (covered modes, HQ share)."""
    results, offsets = Results(), np.linspace(-1, 1, seeds)
    for method, (modes, high_quality) in means.items():
        records.put(results, records.key(dataset, method),
                    Finals(np.array([np.round(modes + 0.4 * offsets)]), np.array([high_quality + 0.02 * offsets]),
                           np.zeros((1, seeds))))
    return results


def control_in_place(config, dataset: str, method: str, kind: str):
    """A run-time control ("noise": an untrained N(0, I) generator; "data": the data) in the method's place."""

    def results() -> Results:
        out, control = Results(), reference(config, dataset, kind)
        records.put(out, records.key(dataset, method), Finals(control.covered, control.high_quality, control.kl))
        return out

    return results


def baseline(dataset: str, kind: str, measure_for):
    """A claim's measure applied to the run's own control samples (noise or data) in every method's place."""

    def measure(r: Results):
        control, swapped = records.get(r, records.key(dataset, kind), Finals), Results()
        for method in METHODS:
            records.put(swapped, records.key(dataset, method), control)
        return measure_for(swapped)

    return measure


def against_itself(dataset: str, method: str):
    """A run-time A/A control of "covers more modes than": the method's seed s against its seed s + 1."""

    def measure(r: Results) -> stats.Measurement:
        covered = records.get(r, records.key(dataset, method), Finals).covered[-1]
        return stats.proportion(int((covered > np.roll(covered, -1)).sum()), covered.size)

    return measure


def collapses(ends) -> np.ndarray:
    """Per seed, whether the plain GAN collapsed (`collapsed`), from `share_of_seeds`'s finals by method."""
    return collapsed(*ends["gan"])
