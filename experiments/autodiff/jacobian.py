"""When does jacfwd beat jacrev? The Jacobian of f: R^n -> R^m by forward and reverse mode.

    python run.py ad-jacobian --preset quick
    python run.py ad-jacobian --preset paper     # n * m = 2^20, for one GPU

The JAX Autodiff Cookbook: jacfwd (n jvps) suits tall Jacobians, jacrev (m vjps) wide ones, crossover near
n = m. XLA's FLOP counts decide it over two sweeps (n * m fixed; n fixed, m growing); time at the first
sweep's two ends, in interleaved rounds with an A/A, decides with a 10% margin. Measurements:
`research.autodiff.jacobian`; design and notes: docs/notes/autodiff.md.
"""

from dataclasses import dataclass

import jax
import numpy as np

from common import plots, records
from common.config import require_at_least_one, require_distinct, require_numbers_representable
from common.experiment import Claim, Control, Results, above, at_most, below, near, scalars
from experiments.api import main
from research.autodiff import citations as C
from research.autodiff import costs as AD
from research.autodiff import fits
from research.autodiff import jacobian as J
from research.autodiff import jacobian_measures as JM

NAME = "ad-jacobian"
STUDY = "autodiff"
PAPER = "JAX Autodiff Cookbook (jacfwd vs jacrev); Griewank & Walther, Evaluating Derivatives"
REPRODUCES = ("jacfwd needs fewer FLOPs for n << m, jacrev for n >> m, crossover near n = m; "
              "jacfwd's FLOPs per f grow as n, jacrev's as m (slope 1); time at both ends, with intervals")

STRATEGIES = {"jacfwd": jax.jacfwd, "jacrev": jax.jacrev}  # name -> transform (a test swaps them)

MAX_LOG2 = 26  # 2^26 float32 numbers: a 256 MiB Jacobian, and 2^log2 fits an int32


@dataclass(frozen=True)
class Config:
    """Jacobian strategies timed over (n, m) sweeps in float32."""

    seeds: int = 1
    """Random maps per (n, m) point; FLOPs are the median over them (they do not depend on the weights)."""
    log2_product: int = 12
    """The first sweep keeps n * m = 2^log2_product."""
    log2_n_range: tuple[int, int] = (2, 10)
    """It runs n = 2^lo .. 2^hi in powers of 2 (jacfwd forms an n x n identity, jacrev an m x m one)."""
    fixed_n: int = 64
    """Input size of the second sweep."""
    log2_m_values: tuple[int, ...] = (2, 4, 6, 8, 10)
    """Output sizes m = 2^value of the fixed-n sweep."""
    hidden: int = 64
    """Hidden width h of the test map f(x) = W2 tanh(W1 x + b1)."""
    time_batch: int = 128
    """Inputs x per timed program at the sweep's two ends (one Jacobian is microseconds)."""
    rounds: int = 15
    """Interleaved timing rounds (each times jacfwd and jacrev once in random order, plus an A/A)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_distinct(self, ('log2_m_values',))
        require_at_least_one(self, ("seeds", "fixed_n", "hidden", "time_batch"))
        if self.rounds < 2:
            raise ValueError(f"rounds must be at least 2 (got {self.rounds})")
        if not 2 <= self.log2_product <= MAX_LOG2:  # a Jacobian of 2^log2_product float32 numbers
            raise ValueError(f"log2_product must be in [2, {MAX_LOG2}] (got {self.log2_product})")
        lo, hi = self.log2_n_range
        if not (0 <= lo and hi - lo >= 2 and hi <= self.log2_product):
            raise ValueError(f"log2_n_range must hold 3 or more points within [0, log2_product] (got {lo}, {hi})")
        if not self.log2_m_values or not all(0 <= v <= MAX_LOG2 for v in self.log2_m_values):
            raise ValueError(f"log2_m_values must be in [0, {MAX_LOG2}] (got {self.log2_m_values})")


PRESETS = {
    "quick": Config(),
    "paper": Config(seeds=3, log2_product=20, log2_n_range=(4, 16), fixed_n=256, log2_m_values=(2, 4, 6, 8, 10, 12, 14, 16),
                    hidden=256, time_batch=128, rounds=21),
}


def sizes_of_product(config: Config) -> list[tuple[int, int]]:
    """(n, m) of the n * m = 2^log2_product sweep, n rising."""
    product = 2**config.log2_product
    return [(2**k, product // 2**k) for k in range(config.log2_n_range[0], config.log2_n_range[1] + 1)]


def flop_sweeps(config: Config, results: Results) -> None:
    """Both sweeps' XLA FLOPs (records "product" and "fixed_n"), their tables, and the FLOP claims' scalars.
    FLOPs are normalized by f's before fitting slopes: with n * m fixed, f itself costs h (n + m)."""
    product = J.flop_sweep(STRATEGIES, sizes_of_product(config), config.hidden, config.seeds, config.seed)
    tall = J.flop_sweep(STRATEGIES, [(config.fixed_n, 2**k) for k in config.log2_m_values], config.hidden,
                        config.seeds, config.seed)
    for label, sweep, title in (("product", product, f"n * m = 2^{config.log2_product} (XLA FLOP ratios)"),
                                ("fixed_n", tall, f"n = {config.fixed_n}, m growing")):
        records.put(results, label, sweep)
        results.tables[title] = J.flop_rows(sweep)
    ratio = product.jacfwd_flops / product.jacrev_flops
    crossover = fits.crossover_ratio(product.n / product.m, ratio)
    results.scalars |= {
        "flop_ratio_smallest_n": float(ratio[0]), "flop_ratio_largest_n": float(ratio[-1]),
        "crossover_n_over_m": crossover, "crossover_log2_distance": abs(np.log2(crossover)),
        "control/crossover_fwd_x32": abs(np.log2(fits.crossover_ratio(product.n / product.m, 32 * ratio))),
        "jacfwd/flops_slope": fits.log_slope(product.n, product.jacfwd_flops / product.f_flops),
        "jacrev/flops_slope": fits.log_slope(product.m, product.jacrev_flops / product.f_flops),
        "control/jacrev_slope_in_n": fits.log_slope(product.n, product.jacrev_flops / product.f_flops),
        "control/jacfwd_slope_in_m_fixed_n": fits.log_slope(tall.m, tall.jacfwd_flops / tall.f_flops)}


def time_end(config: Config, n: int, m: int, label: str, results: Results) -> None:
    """jacfwd against jacrev at one end of the sweep: the rounds under time/<label> and a table row."""
    rounds, too_small = J.timed_strategies(STRATEGIES, n, m, config.hidden, config.time_batch, config.rounds,
                                           config.seed)
    results.notes.extend(too_small)
    results.arrays |= rounds.as_arrays(f"time/{label}")
    title = f"Time of {config.time_batch} Jacobians (vmapped), median of {config.rounds} interleaved rounds"
    results.tables.setdefault(title, []).append(J.time_row(n, m, rounds))


def run(config: Config, session) -> Results:
    results = Results()
    flop_sweeps(config, results)
    sizes = sizes_of_product(config)
    for label, (n, m) in (("smallest_n", sizes[0]), ("largest_n", sizes[-1])):
        time_end(config, n, m, label, results)
    s = results.scalars
    results.notes.append(
        f"Timed on {AD.timing_context()}; float32, hidden width {config.hidden}. Slopes in the n * m = "
        f"2^{config.log2_product} sweep (FLOPs per f): jacfwd against n {s['jacfwd/flops_slope']:.3f}, jacrev "
        f"against m {s['jacrev/flops_slope']:.3f}; the controls: jacrev against n {s['control/jacrev_slope_in_n']:.3f}"
        f", jacfwd against m at n = {config.fixed_n} {s['control/jacfwd_slope_in_m_fixed_n']:.3f}.")
    return results


def figures(results: Results, directory) -> None:
    fig, axes = plots.new_figure(ncols=2)
    product, tall = records.get(results, "product", J.FlopSweep), records.get(results, "fixed_n", J.FlopSweep)
    for ax, sweep, x, xlabel, title in (
            (axes[0, 0], product, product.n / product.m, "n / m  (n * m fixed)", "Jacobian of f: R^n -> R^m"),
            (axes[0, 1], tall, tall.m, "m  (n fixed, dotted: m = n)", f"n = {int(tall.n[0])}")):
        ax.plot(x, sweep.jacfwd_flops / sweep.f_flops, "o-", label="jacfwd")
        ax.plot(x, sweep.jacrev_flops / sweep.f_flops, "s-", label="jacrev")
        ax.axvline(1.0 if sweep is product else tall.n[0], color="gray", lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="XLA FLOPs / FLOPs of f", title=title)
        ax.legend()
    plots.save(fig, directory, "jacobian_crossover", **results.arrays)


def _exact(key: str):
    return lambda r: r.scalars[key]


FLOPS_AS_COOKBOOK, FLOPS_TRANSPOSED = scalars(JM.FLOPS_AS_COOKBOOK), scalars(JM.FLOPS_TRANSPOSED)
# each end of the sweep: the faster strategy's claim, the paper's ratio, and the region of jacfwd/jacrev
TIME_CLAIMS = {"smallest_n": ("jacfwd is faster than jacrev for n << m", "< 1 (0.015)", below(0.9)),
               "largest_n": ("jacrev is faster than jacfwd for n >> m", "> 1 (108)", above(1.1))}

# Tolerances: FLOP counts are exact, so ratios decide by the side of 1 alone; the slopes are 1 up to f's own
# cost inside each pass (0.2); the crossover within a factor 8 of n = m (|log2| <= 3) is the Cookbook's
# "n vs m" read loosely. Time claims carry a stated 10% margin (a tie, within this CPU's noise of 1, must fail
# them) and decide only when the A/A-widened interval of the interleaved rounds clears it.
CLAIMS = [
    Claim(statement="jacfwd needs fewer FLOPs than jacrev for n << m (jacfwd/jacrev FLOPs at the smallest n)",
          paper="< 1", measure=_exact("flop_ratio_smallest_n"), region=below(1.0),
          control=Control(name="the transposed shape (the largest n)", results=FLOPS_TRANSPOSED),
          passing=FLOPS_AS_COOKBOOK, baseline=_exact("flop_ratio_largest_n"), fmt="{:.3g}", where=C.JACFWD_JACREV),
    Claim(statement="jacrev needs fewer FLOPs than jacfwd for n >> m (jacfwd/jacrev FLOPs at the largest n)",
          paper="> 1", measure=_exact("flop_ratio_largest_n"), region=above(1.0),
          control=Control(name="the transposed shape (the smallest n)", results=FLOPS_TRANSPOSED),
          passing=FLOPS_AS_COOKBOOK, baseline=_exact("flop_ratio_smallest_n"), fmt="{:.3g}", where=C.JACFWD_JACREV),
    Claim(statement="the FLOP crossover lies within a factor 8 of n = m (abs log2 of the fitted crossover n/m)",
          paper="<= 3", measure=_exact("crossover_log2_distance"), region=at_most(3.0),
          control=Control(name="jacfwd with a 32-fold overhead (run time: its FLOPs x 32)", results=FLOPS_TRANSPOSED),
          passing=FLOPS_AS_COOKBOOK, baseline=_exact("control/crossover_fwd_x32"), fmt="{:.2f}", where=C.JACFWD_JACREV),
    Claim(statement="jacfwd's FLOPs per f grow as n (fitted log-log slope)", paper="1",
          measure=_exact("jacfwd/flops_slope"), region=near(1.0, 0.2),
          control=Control(name="jacrev's FLOPs per f against n (slope -1)", results=FLOPS_TRANSPOSED),
          passing=FLOPS_AS_COOKBOOK, baseline=_exact("control/jacrev_slope_in_n"), fmt="{:.3f}", where=C.JVP_VJP),
    Claim(statement="jacrev's FLOPs per f grow as m (fitted log-log slope)", paper="1",
          measure=_exact("jacrev/flops_slope"), region=near(1.0, 0.2),
          control=Control(name="jacfwd's FLOPs per f against m at fixed n (slope 0)", results=FLOPS_TRANSPOSED),
          passing=FLOPS_AS_COOKBOOK, baseline=_exact("control/jacfwd_slope_in_m_fixed_n"), fmt="{:.3f}",
          where=C.JVP_VJP),
    *[Claim(statement=f"{claim}, by 10% or more (time ratio jacfwd/jacrev at the {label.replace('_', ' ')}, "
                      "interleaved rounds, A/A-widened)",
            paper=paper, measure=lambda r, label=label: JM.time_ratio(r.arrays, label), region=region,
            control=Control(name="jacfwd against itself (A/A)",
                            results=lambda: Results(arrays=JM.rounds_case(1.0, 1.0))),
            passing=lambda: Results(arrays=JM.rounds_case(0.1, 10.0)),
            baseline=lambda r, label=label: JM.aa_ratio(r.arrays, label), fmt="{:.3g}", where=C.JACFWD_JACREV)
      for label, (claim, paper, region) in TIME_CLAIMS.items()],
]


if __name__ == "__main__":
    main(NAME)
