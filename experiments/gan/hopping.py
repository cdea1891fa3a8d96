"""gan-mixture's mode-hopping run (Metz et al. 2016, Figure 1: the plain GAN's mass moves from mode to mode):
its fit, its stage, its figure and its claim (its record and rows: research/gan/hopping.py)."""

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap

from common import plots, records, stats
from common.experiment import Claim, Control, NotRunAtPreset, Results, above
from experiments.gan.training import Fit
from research.gan.hopping import HOPS, HopRun, data_in_place, hop_results, hop_rows
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
                HopRun(steps, coverage.hits, *hop, config.eval_samples, config.hop_floor))
    return hop_rows(dataset, hop, steps)


def mode_colors(modes: int) -> list:
    """One colour a mode: C0.. up to 10 modes, viridis beyond."""
    return [f"C{m}" for m in range(modes)] if modes <= 10 else list(colormaps["viridis"](np.linspace(0, 1, modes)))


def mode_shares(ax, steps, share_PxM) -> None:
    """Each mode's HQ samples as a share of all samples, stacked, one colour a mode; the legend above them."""
    modes = share_PxM.shape[1]
    ax.stackplot(steps, share_PxM.T, linewidth=0, colors=mode_colors(modes), labels=[f"mode {m}" for m in range(modes)])
    ax.set(ylim=(0, max(0.05, float(share_PxM.sum(axis=1).max()) * 1.6)), xlabel="generator step",
           ylabel="HQ samples of each mode\n(share of all samples)")
    ax.legend(loc="upper left", fontsize=5, ncol=4 if modes <= 8 else 9, columnspacing=0.8, handlelength=1.0)


def figure(results: Results, directory, datasets) -> None:
    """The held mode of each hopping seed (a row) at each evaluation (a column): one colour a mode, white where
    no mode is held; a hop is a change of colour along a row (Metz et al. 2017, Fig. 1)."""
    for dataset in datasets:
        if (hop := present(results, records.key(dataset, "hopping"), HopRun)) is None:
            continue
        seeds, modes, half = hop.switches.size, hop.hits.shape[2], (hop.eval_step[1] - hop.eval_step[0]) / 2
        fig, axes = plots.new_figure(1, 1, width=8.0, height=1.2 + 0.3 * seeds)
        ax, hopping = axes[0, 0], int((hop.switches >= HOPS).sum())
        image = ax.imshow(hop.mode.T + 1, cmap=ListedColormap(["white", *mode_colors(modes)]), vmin=-0.5,
                          vmax=modes + 0.5, aspect="auto", interpolation="nearest",
                          extent=(hop.eval_step[0] - half, hop.eval_step[-1] + half, seeds - 0.5, -0.5))
        bar = fig.colorbar(image, ax=ax, ticks=range(modes + 1), label="held mode", pad=0.01)
        bar.ax.set_yticklabels(["none", *map(str, range(modes))], fontsize=6)
        ax.set_yticks(range(seeds), [f"seed {s}: {n} switches" for s, n in enumerate(hop.switches)], fontsize=7)
        ax.set(xlabel="generator step", title=f"{dataset}: the plain GAN's held mode (>= 50% of its HQ samples), "
               f"{hopping} of {seeds} seeds switch >= {HOPS} times\nMetz et al. 2017, Fig. 1: its mass moves from "
               "mode to mode instead of spreading")
        ax.grid(False)
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
        paper=paper, where="Metz et al. 2017 (Unrolled GANs, ICLR), Fig. 1 and Sec. 3.1", measure=hopping_seeds(dataset),
        region=above(0.5),
        control=Control(name="a generator that never hops (run time: the data's own samples in its place; case: "
                        "30% of the samples on mode 0 throughout)", results=lambda: hop_results(dataset, lambda point: 0)),
        baseline=data_in_place(dataset),
        passing=lambda: hop_results(dataset, lambda point: point // 4), fmt="{:.2f}")
