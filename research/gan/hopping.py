"""The plain GAN's mode hopping (Metz et al. 2016, Figure 1: its mass moves from mode to mode): the record
gan-mixture keeps of a hopping run, its table rows, and the synthetic runs of the claim's contract cases."""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from common import records, stats
from common.experiment import Results
from research.gan.metrics import CENTERS, Coverage, Hopping, mode_hopping

HOPS = 2  # a seed hops when its held mode changes at least this often


class HopRun(NamedTuple):
    """The plain GAN's hopping run: HQ hits per mode at each evaluation and what `mode_hopping` reads in them."""

    eval_step: np.ndarray  # (points,)
    hits: np.ndarray  # (points, seeds, modes)
    mode: np.ndarray  # (points, seeds): the held mode, -1 where none
    share: np.ndarray  # (points, seeds): the top mode's share of all samples
    switches: np.ndarray  # (seeds,)
    samples: int
    floor: float  # a held mode's least share of all samples (the config's hop_floor)


def hop_rows(dataset: str, hop: Hopping, steps: np.ndarray) -> list[dict]:
    """Per seed: its switches and the held mode at each evaluation (with its share of all samples)."""
    return [{"data": dataset, "seed": seed, "switches": int(hop.switches[seed]),
             "held mode @ step (share of samples)": " ".join(
                 f"{m}@{s} ({share:.0%})" for m, s, share in zip(hop.mode[:, seed], steps, hop.share[:, seed]) if m >= 0)
             or "none"} for seed in range(hop.switches.size)]


def hop_results(dataset: str, mode_at, points: int = 16, seeds: int = 8) -> Results:
    """A hopping run whose generator puts 30% of its samples, all high quality, on mode `mode_at(point)`."""
    results, hits = Results(), np.zeros((points, seeds, CENTERS[dataset]().shape[0]))
    for point in range(points):
        hits[point, :, mode_at(point)] = 750
    records.put(results, records.key(dataset, "hopping"),
                HopRun(np.arange(points), hits, *mode_hopping(hits, 2500, 0.01), 2500, 0.01))
    return results


def data_in_place(dataset: str) -> Callable[[Results], stats.Measurement]:
    """A run-time control: the hopping claim's share of seeds with the data's own samples (this run's draws,
    seed s + t at evaluation t) in the generator's place at every evaluation of every seed."""

    def measure(r: Results) -> stats.Measurement:
        hop = records.get(r, records.key(dataset, "hopping"), HopRun)
        data = records.get(r, records.key(dataset, "data"), Coverage).hits[0]  # (draws, modes)
        points, seeds = hop.mode.shape
        hits = data[(np.arange(points)[:, None] + np.arange(seeds)) % data.shape[0]]
        switches = mode_hopping(hits, hop.samples, hop.floor).switches
        return stats.proportion(int((switches >= HOPS).sum()), seeds)

    return measure
