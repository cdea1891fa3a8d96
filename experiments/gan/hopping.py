"""gan-mixture's mode-hopping run (Metz et al. 2016, Figure 1: the plain GAN's mass moves from mode to mode):
its fit, its stage, its figure and its claim (its record and rows: research/gan/hopping.py)."""

import numpy as np
from matplotlib import colormaps

from common import plots, records, stats
from common.experiment import Claim, Control, NotRunAtPreset, Results, above
from experiments.gan.training import Fit
from research.gan.hopping import HOPS, HopRun, hop_results, hop_rows
from research.gan.methods import recipe
from research.gan.metrics import mode_hopping
from research.gan.optional_records import present


def fits(config, dataset: str) -> list[Fit]:
    """The plain GAN at lr_D = hop_lr_g / 10 (Metz et al.'s ratio), its own seeds and steps; none at hop_steps 0."""
    hop = recipe("gan", config)._replace(lr_g=config.hop_lr_g, lr_d=config.hop_lr_g / 10)
    return [Fit(f"{dataset}-gan-hop", "gan", hop, seeds=config.hop_seeds, steps=config.hop_steps)] if config.hop_steps else []


def stage(config, dataset: str, trained: dict, results: Results) -> list[dict]:
    """The hopping run's held mode at each evaluation and its switches, per seed."""
    if not config.hop_steps:
        return []
    out, coverage, _ = trained[f"{dataset}-gan-hop"]
    hop = mode_hopping(coverage.hits, config.eval_samples, config.hop_floor)
    steps = np.asarray(out.history["eval_step"])
    records.put(results, records.key(dataset, "hopping"),
                HopRun(steps, coverage.hits, *hop, config.eval_samples))
    return hop_rows(dataset, hop, steps)


def mode_shares(ax, steps, share_PxM, legend: bool) -> None:
    """Each mode's share of all samples (its HQ samples) stacked, one colour per mode (C0.. up to 10 modes)."""
    modes = share_PxM.shape[1]
    colors = [f"C{m}" for m in range(modes)] if modes <= 10 else colormaps["viridis"](np.linspace(0, 1, modes))
    ax.stackplot(steps, share_PxM.T, linewidth=0, colors=colors, labels=[f"mode {m}" for m in range(modes)])
    ax.set(ylim=(0, max(0.05, float(share_PxM.sum(axis=1).max()) * 1.1)), xlabel="generator step",
           ylabel="share of all samples (HQ, by mode)")
    if legend:
        ax.legend(loc="upper left", fontsize=5, ncol=4 if share_PxM.shape[1] > 8 else 2)


def figure(results: Results, directory, datasets) -> None:
    """Per hopping seed, the HQ share of each mode over training: hopping shows as the colour changing."""
    for dataset in datasets:
        if (hop := present(results, records.key(dataset, "hopping"), HopRun)) is None:
            continue
        seeds = hop.switches.size
        fig, axes = plots.new_figure(min(seeds, 4), -(-seeds // 4), width=3.0, height=2.4)
        for seed, ax in enumerate(axes.flat[:seeds]):
            shares, held = hop.hits[:, seed, :] / hop.samples, hop.mode[:, seed] >= 0
            ax.scatter(hop.eval_step[held], shares.sum(axis=1)[held], c=[f"C{m}" for m in hop.mode[held, seed]],
                       marker="v", s=18, zorder=3, label="held mode (its colour)")
            mode_shares(ax, hop.eval_step, shares, legend=seed == 0)
            ax.set(title=f"{dataset}, seed {seed}: {hop.switches[seed]} switches")
        plots.save(fig, directory, f"mode_hopping_{dataset}", eval_step=hop.eval_step, hits=hop.hits, mode=hop.mode)


def hopping_seeds(dataset: str):
    def measure(r: Results) -> stats.Measurement:
        hop = present(r, records.key(dataset, "hopping"), HopRun)
        if hop is None:
            raise NotRunAtPreset("quick", f"this run has no hopping run on the {dataset} (hop_steps 0)")
        return stats.proportion(int((hop.switches >= HOPS).sum()), hop.switches.size)

    return measure


def claim(dataset: str, paper: str) -> Claim:
    return Claim(
        statement=f"{dataset}: the plain GAN hops between modes: in most seeds the held mode (>= 50% of the HQ "
        f"samples and >= hop_floor of all samples) changes >= {HOPS} times (share of seeds, Wilson 95%)",
        paper=paper, measure=hopping_seeds(dataset), region=above(0.5),
        control=Control(name="a fixed one-mode generator (30% of the samples on mode 0 throughout)",
                        results=lambda: hop_results(dataset, lambda point: 0)),
        passing=lambda: hop_results(dataset, lambda point: point // 4), fmt="{:.2f}")
