"""prune-lottery's claim measures on its records in Results, and the synthetic Results of the
claims' controls and passing cases."""

import numpy as np

from common import records, stats
from common.experiment import Results
from research.pruning import lottery_study
from research.pruning.criterion import undertrained
from research.pruning.lottery_study import LRS, Axes, Chain


def high_gap(r: Results, tag: str, other: str) -> np.ndarray:
    """Per seed: ticket minus `other`, averaged over the high-sparsity rounds."""
    return lottery_study.high_gap(records.get(r, "imp", Axes), records.get(r, tag, Chain), other)


def require_trained(r: Results, *tags: str) -> None:
    """Undecided unless each named chain's dense net trained: its mean validation accuracy within
    `trained_within` of the better lr's (research/pruning/criterion.py: an undertrained arm decides nothing)."""
    axes = records.get(r, "imp", Axes)
    means = {tag: float(np.mean(records.get(r, tag, Chain).dense_validation)) for tag in LRS}
    for tag in tags:
        if means[tag] < max(means.values()) - axes.trained_within:
            raise undertrained(f"the dense net at lr {axes.learning_rates[LRS.index(tag)]:g}",
                               f"validation accuracy {means[tag]:.3f} (mean over seeds)",
                               f"within {axes.trained_within:g} of the better lr's {max(means.values()):.3f}")


def gap(tag: str, other: str):
    """The ticket's mean per-seed gap over `other` at the high-sparsity rounds of one lr's chain."""
    def measure(r: Results) -> stats.Measurement:
        require_trained(r, tag)
        return stats.mean(high_gap(r, tag, other))
    return measure


def gap_shrink(r: Results) -> stats.Measurement:
    """Per seed (the two lr chains share each seed's init): small-lr edge minus large-lr edge."""
    require_trained(r, *LRS)
    return stats.paired_difference(high_gap(r, "small_lr", "random_reinit"), high_gap(r, "large_lr", "random_reinit"))


def large_lr_barriers(read):
    """A measure of the larger lr's barriers (rewind steps, seeds), once its dense net trained."""
    def measure(r: Results) -> stats.Measurement:
        require_trained(r, "large_lr")
        return read(records.get(r, "large_lr", Chain).lmc_barrier)
    return measure


REINIT_AA = "the last round's random reinit against a second one"


def reinit_against_itself(r: Results) -> stats.Measurement:
    """The run-time A/A: the last round's random reinit from another init minus the random reinit."""
    chain = records.get(r, "small_lr", Chain)
    return stats.paired_difference(chain.reinit_again, chain.random_reinit[-1])


def small_lr_edge(r: Results) -> stats.Measurement:
    """The run-time control of "no better than reinit at the larger lr": the small lr's ticket over reinit,
    where the paper's ticket wins (its training criterion is the claim's concern, not the control's)."""
    return stats.mean(high_gap(r, "small_lr", "random_reinit"))


def barrier_against_itself(r: Results) -> stats.Measurement:
    """The run-time A/A of the barrier's fall: the larger lr's barriers at the first rewind step against
    themselves with the seeds rotated by one (the same step twice, other pairs)."""
    first = records.get(r, "large_lr", Chain).lmc_barrier[0]
    return stats.paired_difference(first, np.roll(first, 1))


def independent_barrier(r: Results) -> stats.Measurement:
    """The barrier between two independently initialised dense nets (larger lr)."""
    return stats.mean(records.get(r, "large_lr", Chain).independent_barrier)


def synthetic(*args, **kwargs) -> Results:
    """`lottery_study.synthetic`'s records as Results."""
    axes, chains, results = *lottery_study.synthetic(*args, **kwargs), Results()
    records.put(results, "imp", axes)
    for tag, chain in chains.items():
        records.put(results, tag, chain)
    return results
