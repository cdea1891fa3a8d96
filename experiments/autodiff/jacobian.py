"""When does jacfwd beat jacrev? The Jacobian of f: R^n -> R^m by forward and reverse mode.

    python run.py ad-jacobian --preset quick     # ~30 s on the shared 2-core CPU
    python run.py ad-jacobian --preset paper     # n * m = 2^20, for one GPU

The JAX Autodiff Cookbook: jacfwd (one vmapped jvp per input) suits tall
Jacobians, jacrev (one vmapped vjp per output) wide ones. With
f(x) = W2 tanh(W1 x + b1), hidden width h, each pass costs about f, so jacfwd
costs ~ n f and jacrev ~ m f: the crossover sits near n = m. Sweeps by XLA's
FLOP count: n * m fixed (the crossover), and n fixed with m growing; the
Cookbook's statement is about work, so FLOPs decide it. Time is measured at
the sweep's two ends on a vmapped batch of inputs (each program >= 1 ms), in
interleaved rounds with an A/A calibration, and decides only when its
interval clears a 10% margin around 1 (< 0.9, > 1.1). (The Python loops of jvps / vjps in
research/autodiff/jacobian.py do the same passes one dispatch at a time; they
are tested there, not timed here.)
Reference timings on raw JAX (H200, float32, n * m = 2^20): jacfwd/jacrev time
ratio 0.015 at n = 16, 0.82 at n = 256, 1.37 at n = 1024, 108 at n = 65536.
"""

import warnings
from dataclasses import dataclass

import jax
import numpy as np

from common import bench, plots, stats
from common.bench import TooSmallToTime, compiled_costs
from common.config import require_at_least_one, require_distinct, require_numbers_representable
from common.experiment import Claim, Control, Results, above, at_most, below, near, scalars
from experiments.api import main
from research.autodiff import costs as AD
from research.autodiff import jacobian as J

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


def measure_point(config: Config, n: int, m: int, seed: int) -> dict[str, float]:
    """XLA FLOPs of f, jacfwd and jacrev at one (n, m), as functions of (params, x):
    no weights folded into the program."""
    rng = np.random.default_rng([config.seed, seed, n, m])
    params = J.init_map(rng, n, m, config.hidden)
    x = jax.device_put(rng.standard_normal(n).astype(np.float32))
    point = {"f": compiled_costs(J.apply_map, params, x)["flops"]}
    for name in STRATEGIES:
        point[name] = compiled_costs(STRATEGIES[name](J.apply_map, argnums=1), params, x)["flops"]
    return point


def sweep(config: Config, sizes: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    """Each (n, m), the median over seeds: arrays n, m, <name>/flops."""
    out = {"n": np.array([n for n, _ in sizes]), "m": np.array([m for _, m in sizes])}
    per_point = [[measure_point(config, n, m, s) for s in range(config.seeds)] for n, m in sizes]
    for name in ("f", *STRATEGIES):
        out[f"{name}/flops"] = np.array([np.median([p[name] for p in seeds]) for seeds in per_point])
    return out


def time_end(config: Config, n: int, m: int) -> bench.Rounds:
    """jacfwd and jacrev of `time_batch` inputs (vmapped) at one (n, m), interleaved, A/A on jacfwd."""
    rng = np.random.default_rng(config.seed)
    params = J.init_map(rng, n, m, config.hidden)
    xs = jax.device_put(rng.standard_normal((config.time_batch, n)).astype(np.float32))
    programs = {}
    for name in STRATEGIES:
        program = jax.jit(jax.vmap(STRATEGIES[name](J.apply_map, argnums=1), in_axes=(None, 0)))
        programs[name] = lambda program=program: program(params, xs)
    return bench.interleaved(programs, reference="jacfwd", rounds=config.rounds, seed=config.seed)


def crossover_ratio(n_over_m: np.ndarray, fwd_over_rev: np.ndarray) -> float:
    """n/m where a least-squares line through log(jacfwd/jacrev) against log(n/m)
    crosses 0: robust to single noisy points, unlike the first sign change. A line
    that does not rise (jacfwd not relatively dearer as n grows: the law reversed, e.g.
    the two swapped) has no such crossover: infinitely far from n = m, so the claim
    on its distance says "not reproduced", not "not measured"."""
    slope_, intercept = np.polyfit(np.log2(n_over_m), np.log2(fwd_over_rev), 1)
    return float(2 ** (-intercept / slope_)) if slope_ > 0 else float("inf")


def slope(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def sizes_of_product(config: Config) -> list[tuple[int, int]]:
    """(n, m) of the n * m = 2^log2_product sweep, n rising."""
    product = 2**config.log2_product
    return [(2**k, product // 2**k) for k in range(config.log2_n_range[0], config.log2_n_range[1] + 1)]


def flop_sweeps(config: Config, results: Results) -> None:
    """Both sweeps' XLA FLOPs, their tables, and the scalars of the FLOP claims."""
    fixed = sweep(config, sizes_of_product(config))
    tall = sweep(config, [(config.fixed_n, 2**k) for k in config.log2_m_values])
    for label, data in (("product", fixed), ("fixed_n", tall)):
        results.arrays.update({f"{label}/{k}": v for k, v in data.items()})
        results.tables[_table_name(config, label)] = [
            {"n": int(n), "m": int(m), "n/m": n / m, "f MFLOP": data["f/flops"][i] / 1e6,
             "jacfwd / f FLOPs": data["jacfwd/flops"][i] / data["f/flops"][i],
             "jacrev / f FLOPs": data["jacrev/flops"][i] / data["f/flops"][i],
             "jacfwd / jacrev FLOPs": data["jacfwd/flops"][i] / data["jacrev/flops"][i]}
            for i, (n, m) in enumerate(zip(data["n"], data["m"]))
        ]
    ratio = fixed["jacfwd/flops"] / fixed["jacrev/flops"]
    results.scalars["flop_ratio_smallest_n"] = float(ratio[0])
    results.scalars["flop_ratio_largest_n"] = float(ratio[-1])
    results.scalars["crossover_n_over_m"] = crossover_ratio(fixed["n"] / fixed["m"], ratio)
    results.scalars["crossover_log2_distance"] = abs(np.log2(results.scalars["crossover_n_over_m"]))
    per_f = {name: fixed[f"{name}/flops"] / fixed["f/flops"] for name in STRATEGIES}
    results.scalars["jacfwd/flops_slope"] = slope(fixed["n"], per_f["jacfwd"])
    results.scalars["jacrev/flops_slope"] = slope(fixed["m"], per_f["jacrev"])
    results.scalars["control/jacrev_slope_in_n"] = slope(fixed["n"], per_f["jacrev"])
    results.scalars["control/jacfwd_slope_in_m_fixed_n"] = slope(tall["m"], tall["jacfwd/flops"] / tall["f/flops"])


def run(config: Config, session) -> Results:
    results = Results()
    flop_sweeps(config, results)
    sizes = sizes_of_product(config)
    timing_rows(config, *sizes[0], "smallest_n", results)
    timing_rows(config, *sizes[-1], "largest_n", results)
    results.notes.append(
        f"Timed on {AD.timing_context()}; float32, hidden width {config.hidden}. FLOPs are normalized by f's "
        "before fitting slopes: with n * m fixed, f itself costs h (n + m), so the raw cost of jacfwd is flat for "
        "n << m; per f it grows as n.")
    results.notes.append(
        f"Slopes in the n * m = 2^{config.log2_product} sweep: jacfwd/f FLOPs against n "
        f"{results.scalars['jacfwd/flops_slope']:.3f}, jacrev/f against m {results.scalars['jacrev/flops_slope']:.3f}"
        f"; the controls: jacrev/f against n {results.scalars['control/jacrev_slope_in_n']:.3f}, jacfwd/f against "
        f"m at n = {config.fixed_n} {results.scalars['control/jacfwd_slope_in_m_fixed_n']:.3f}.")
    return results


def timing_rows(config: Config, n: int, m: int, label: str, results: Results) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TooSmallToTime)
        rounds = time_end(config, n, m)
    results.notes.extend(f"n = {n}, m = {m}: {w.message}" for w in caught if issubclass(w.category, TooSmallToTime))
    results.arrays |= rounds.as_arrays(f"time/{label}")
    ratio, aa = rounds.ratio("jacfwd", "jacrev"), stats.bootstrap_median(rounds.aa())
    results.tables.setdefault(f"Time of {config.time_batch} Jacobians (vmapped), median of {config.rounds} "
                              "interleaved rounds", []).extend([
        {"n": n, "m": m, "jacfwd ms": float(np.median(rounds.seconds["jacfwd"])) * 1e3,
         "jacrev ms": float(np.median(rounds.seconds["jacrev"])) * 1e3, "jacfwd / jacrev time": ratio.value,
         "95% interval": f"[{ratio.interval[0]:.3g}, {ratio.interval[1]:.3g}]",
         "A/A (jacfwd / jacfwd)": aa.value, "A/A interval": f"[{aa.interval[0]:.3f}, {aa.interval[1]:.3f}]"}])


def _table_name(config: Config, label: str) -> str:
    if label == "product":
        return f"n * m = 2^{config.log2_product} (XLA FLOP ratios)"
    return f"n = {config.fixed_n}, m growing"


def figures(results: Results, directory) -> None:
    fig, axes = plots.new_figure(ncols=2)
    a = results.arrays
    ax = axes[0, 0]
    n_over_m = a["product/n"] / a["product/m"]
    for name, marker in zip(STRATEGIES, "os"):
        ax.plot(n_over_m, a[f"product/{name}/flops"] / a["product/f/flops"], marker + "-", label=name)
    ax.axvline(1.0, color="gray", lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlabel="n / m  (n * m fixed)", ylabel="XLA FLOPs / FLOPs of f",
           title="Jacobian of f: R^n -> R^m")
    ax.legend()
    ax = axes[0, 1]
    for name, marker in zip(STRATEGIES, "os"):
        ax.plot(a["fixed_n/m"], a[f"fixed_n/{name}/flops"] / a["fixed_n/f/flops"], marker + "-", label=name)
    ax.axvline(a["fixed_n/n"][0], color="gray", lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlabel="m  (n fixed, dotted: m = n)", ylabel="XLA FLOPs / FLOPs of f",
           title=f"n = {int(a['fixed_n/n'][0])}")
    ax.legend()
    plots.save(fig, directory, "jacobian_crossover", **a)


def time_ratio(label: str):
    """time(jacfwd) / time(jacrev) at one end of the sweep, from interleaved rounds, A/A-widened."""

    def measure(r: Results) -> stats.Measurement:
        return AD.claimed_time_ratio(bench.rounds_from_arrays(r.arrays, f"time/{label}", "jacfwd"), "jacfwd",
                                     "jacrev")

    return measure


def aa_ratio(label: str):
    """The run-time control of a time claim: jacfwd timed against itself."""
    return lambda r: stats.bootstrap_median(bench.rounds_from_arrays(r.arrays, f"time/{label}", "jacfwd").aa())


def _rounds(smallest_n: float, largest_n: float, rounds: int = 9) -> Results:
    """Synthetic rounds with these jacfwd/jacrev time ratios at the two ends, A/A within 1%."""
    wobble = 1 + 0.01 * np.sin(np.arange(rounds))
    arrays = {}
    for label, ratio in (("smallest_n", smallest_n), ("largest_n", largest_n)):
        arrays |= {f"time/{label}/jacfwd": 2e-3 * ratio * wobble,
                   f"time/{label}/jacfwd{bench.AA_SUFFIX}": 2e-3 * ratio * wobble[::-1],
                   f"time/{label}/jacrev": 2e-3 * wobble}
    return Results(arrays=arrays)


def _exact(key: str):
    return lambda r: r.scalars[key]


FLOPS_AS_COOKBOOK = scalars({"flop_ratio_smallest_n": 0.01, "flop_ratio_largest_n": 100.0,
                             "crossover_log2_distance": 0.1, "jacfwd/flops_slope": 1.0, "jacrev/flops_slope": 1.0,
                             "control/jacrev_slope_in_n": -1.0, "control/jacfwd_slope_in_m_fixed_n": 0.0})
# the transposed shapes: jacfwd where jacrev should be, a crossover far from n = m
FLOPS_TRANSPOSED = scalars({"flop_ratio_smallest_n": 100.0, "flop_ratio_largest_n": 0.01,
                            "crossover_log2_distance": 5.0, "jacfwd/flops_slope": -1.0, "jacrev/flops_slope": 0.0})

# Tolerances: FLOP counts are exact, so ratios decide by the side of 1 alone;
# the slopes are 1 up to f's own cost inside each pass (0.2); the crossover
# within a factor 8 of n = m (|log2| <= 3) is the Cookbook's "n vs m" read
# loosely. Time claims carry a stated 10% margin (jacfwd/jacrev < 0.9 and
# > 1.1: a tie, within this CPU's noise of 1, must fail them) and decide only when
# the A/A-widened interval of 15 interleaved rounds clears it.
CLAIMS = [
    Claim(
        statement="jacfwd needs fewer FLOPs than jacrev for n << m (jacfwd/jacrev FLOPs at the smallest n)",
        paper="< 1",
        measure=_exact("flop_ratio_smallest_n"),
        region=below(1.0),
        control=Control(name="the transposed shape (the largest n)", results=FLOPS_TRANSPOSED),
        passing=FLOPS_AS_COOKBOOK,
        baseline=_exact("flop_ratio_largest_n"),
        fmt="{:.3g}",
    ),
    Claim(
        statement="jacrev needs fewer FLOPs than jacfwd for n >> m (jacfwd/jacrev FLOPs at the largest n)",
        paper="> 1",
        measure=_exact("flop_ratio_largest_n"),
        region=above(1.0),
        control=Control(name="the transposed shape (the smallest n)", results=FLOPS_TRANSPOSED),
        passing=FLOPS_AS_COOKBOOK,
        baseline=_exact("flop_ratio_smallest_n"),
        fmt="{:.3g}",
    ),
    Claim(
        statement="the FLOP crossover lies within a factor 8 of n = m (abs log2 of the fitted crossover n/m)",
        paper="<= 3",
        measure=_exact("crossover_log2_distance"),
        region=at_most(3.0),
        control=Control(name="jacfwd with a 32-fold overhead (crossover at n/m = 1/32)", results=FLOPS_TRANSPOSED),
        passing=FLOPS_AS_COOKBOOK,
        fmt="{:.2f}",
    ),
    Claim(
        statement="jacfwd's FLOPs per f grow as n (fitted log-log slope)",
        paper="1",
        measure=_exact("jacfwd/flops_slope"),
        region=near(1.0, 0.2),
        control=Control(name="jacrev's FLOPs per f against n (slope -1)", results=FLOPS_TRANSPOSED),
        passing=FLOPS_AS_COOKBOOK,
        baseline=_exact("control/jacrev_slope_in_n"),
        fmt="{:.3f}",
    ),
    Claim(
        statement="jacrev's FLOPs per f grow as m (fitted log-log slope)",
        paper="1",
        measure=_exact("jacrev/flops_slope"),
        region=near(1.0, 0.2),
        control=Control(name="jacfwd's FLOPs per f against m at fixed n (slope 0)", results=FLOPS_TRANSPOSED),
        passing=FLOPS_AS_COOKBOOK,
        baseline=_exact("control/jacfwd_slope_in_m_fixed_n"),
        fmt="{:.3f}",
    ),
    Claim(
        statement="jacfwd is faster than jacrev for n << m, by 10% or more (time ratio jacfwd/jacrev at the smallest n, "
        "interleaved rounds, A/A-widened)",
        paper="< 1 (0.015)",
        measure=time_ratio("smallest_n"),
        region=below(0.9),
        control=Control(name="jacfwd against itself (A/A)", results=lambda: _rounds(1.0, 1.0)),
        passing=lambda: _rounds(0.1, 10.0),
        baseline=aa_ratio("smallest_n"),
        fmt="{:.3g}",
    ),
    Claim(
        statement="jacrev is faster than jacfwd for n >> m, by 10% or more (time ratio jacfwd/jacrev at the largest n, "
        "interleaved rounds, A/A-widened)",
        paper="> 1 (108)",
        measure=time_ratio("largest_n"),
        region=above(1.1),
        control=Control(name="jacfwd against itself (A/A)", results=lambda: _rounds(1.0, 1.0)),
        passing=lambda: _rounds(0.1, 10.0),
        baseline=aa_ratio("largest_n"),
        fmt="{:.3g}",
    ),
]


if __name__ == "__main__":
    main(NAME)
