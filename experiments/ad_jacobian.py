"""When does jacfwd beat jacrev? The Jacobian of f: R^n -> R^m four ways.

    python run.py ad-jacobian --preset quick     # ~20 s on the shared 2-core CPU
    python run.py ad-jacobian --preset paper     # n * m = 2^20, for one GPU

The JAX Autodiff Cookbook: jacfwd (one vmapped jvp per input) suits tall
Jacobians, jacrev (one vmapped vjp per output) wide ones. With
f(x) = W2 tanh(W1 x + b1), hidden width h, each pass costs about f, so jacfwd
costs ~ n f and jacrev ~ m f: the crossover sits near n = m. Sweeps: n * m
fixed (the crossover), and n fixed with m growing. The Python loops of jvps /
vjps run the same passes one dispatch at a time (only where passes are few).
Reference timings on raw JAX (H200, float32, n * m = 2^20): jacfwd/jacrev time
ratio 0.015 at n = 16, 0.82 at n = 256, 1.37 at n = 1024, 108 at n = 65536.
"""

from dataclasses import dataclass

import jax
import numpy as np

from common import plots
from common.bench import compiled_costs, time_callable, time_function
from common.config import require_at_least_one
from common.experiment import Claim, Results
from experiments.api import main
from research import autodiff as AD
from research import autodiff_jacobian as J

NAME = "ad-jacobian"
STUDY = "autodiff"
PAPER = "JAX Autodiff Cookbook (jacfwd vs jacrev); Griewank & Walther, Evaluating Derivatives"
REPRODUCES = ("jacfwd wins for n << m, jacrev for n >> m, crossover near n = m; "
              "jacfwd's cost grows as n, jacrev's as m (slope 1)")
QUICK_SECONDS = 20

STRATEGIES = ("jacfwd", "jacrev", "jvp_loop", "vjp_loop")
# Keep timing a compiled call until this much time is collected. The minimum
# over repeats is used: on a shared machine it estimates the uncontended cost,
# where a median still carries other processes' load.
MIN_SECONDS = 0.05


@dataclass(frozen=True)
class Config:
    """Jacobian strategies timed over (n, m) sweeps in float32."""

    seeds: int = 1
    """Random maps per (n, m) point; times are the median over them."""
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
    max_loop_passes: int = 16
    """The Python loops run only when they need at most this many jvps / vjps."""
    repeats: int = 5
    """Timed calls per measurement, at least (see MIN_SECONDS)."""
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "fixed_n", "hidden", "repeats"))
        lo, hi = self.log2_n_range
        if not 0 <= lo and hi - lo >= 2 and hi <= self.log2_product:
            raise ValueError(f"log2_n_range must hold 3 or more points within [0, log2_product] (got {lo}, {hi})")
        if not self.log2_m_values or min(self.log2_m_values) < 0:
            raise ValueError(f"log2_m_values must be non-negative (got {self.log2_m_values})")


PRESETS = {
    "quick": Config(),
    "paper": Config(seeds=3, log2_product=20, log2_n_range=(4, 16), fixed_n=256, log2_m_values=(2, 4, 6, 8, 10, 12, 14, 16),
                    hidden=256, max_loop_passes=256, repeats=10),
}


def measure_point(config: Config, n: int, m: int, seed: int) -> dict:
    """Seconds (minimum over repeats; median of 3 for the host loops) and XLA FLOPs
    of f and of each strategy at one (n, m); NaN where skipped."""
    key_params, key_x = jax.random.split(jax.random.fold_in(jax.random.key(config.seed), seed))
    params = J.init_map(key_params, n, m, config.hidden)
    x = jax.random.normal(key_x, (n,))

    def f(y):
        return J.apply_map(params, y)

    point = {}
    timing = time_function(J.apply_map, params, x, repeats=config.repeats, min_seconds=MIN_SECONDS)
    point["f"] = (timing.min_seconds, timing.flops)
    for name in ("jacfwd", "jacrev"):  # as functions of (params, x): no weights folded into the program
        jacobian = getattr(jax, name)(J.apply_map, argnums=1)
        timing = time_function(jacobian, params, x, repeats=config.repeats, min_seconds=MIN_SECONDS)
        point[name] = (timing.min_seconds, timing.flops)
    one_pass = {"jvp_loop": (n, lambda p, y, t: jax.jvp(lambda z: J.apply_map(p, z), (y,), (t,))),
                "vjp_loop": (m, lambda p, y, u: jax.vjp(lambda z: J.apply_map(p, z), y)[1](u))}
    for name, (passes, single) in one_pass.items():
        if passes > config.max_loop_passes:
            point[name] = (np.nan, np.nan)
            continue
        direction = np.zeros(n if name == "jvp_loop" else m, np.float32)
        flops = passes * compiled_costs(single, params, x, direction)["flops"]
        jacobian = J.JACOBIAN_STRATEGIES[name](f)
        point[name] = (time_callable(lambda jacobian=jacobian: jacobian(x), repeats=3), flops)
    return point


def sweep(config: Config, sizes: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    """Each (n, m), the median over seeds: arrays n, m, <name>/seconds, <name>/flops."""
    out = {"n": np.array([n for n, _ in sizes]), "m": np.array([m for _, m in sizes])}
    per_point = [[measure_point(config, n, m, s) for s in range(config.seeds)] for n, m in sizes]
    for name in ("f", *STRATEGIES):
        for index, what in enumerate(("seconds", "flops")):
            out[f"{name}/{what}"] = np.array([np.median([p[name][index] for p in seeds]) for seeds in per_point])
    return out


def crossover_ratio(n_over_m: np.ndarray, fwd_over_rev: np.ndarray) -> float:
    """n/m where a least-squares line through log(jacfwd/jacrev time) against
    log(n/m) crosses 0: robust to single noisy points, unlike the first sign change."""
    slope_, intercept = np.polyfit(np.log2(n_over_m), np.log2(fwd_over_rev), 1)
    return float(2 ** (-intercept / slope_)) if slope_ > 0 else float("nan")


def slope(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def run(config: Config, session) -> Results:
    results = Results()
    product = 2**config.log2_product
    ns = [2**k for k in range(config.log2_n_range[0], config.log2_n_range[1] + 1)]
    fixed = sweep(config, [(n, product // n) for n in ns])
    tall = sweep(config, [(config.fixed_n, 2**k) for k in config.log2_m_values])
    for label, data in (("product", fixed), ("fixed_n", tall)):
        results.arrays.update({f"{label}/{k}": v for k, v in data.items()})
        results.tables[_table_name(config, label)] = [
            {"n": int(n), "m": int(m), "n/m": n / m,
             **{f"{s} ms": data[f"{s}/seconds"][i] * 1e3 for s in ("f", *STRATEGIES)},
             "jacfwd/jacrev time": data["jacfwd/seconds"][i] / data["jacrev/seconds"][i],
             "jacfwd/f FLOPs": data["jacfwd/flops"][i] / data["f/flops"][i],
             "jacrev/f FLOPs": data["jacrev/flops"][i] / data["f/flops"][i]}
            for i, (n, m) in enumerate(zip(data["n"], data["m"]))
        ]
    ratio = fixed["jacfwd/seconds"] / fixed["jacrev/seconds"]
    n_over_m = fixed["n"] / fixed["m"]
    results.scalars["time_ratio_smallest_n"] = float(ratio[0])
    results.scalars["time_ratio_largest_n"] = float(ratio[-1])
    results.scalars["crossover_n_over_m"] = crossover_ratio(n_over_m, ratio)
    results.scalars["crossover_log2_distance"] = abs(np.log2(results.scalars["crossover_n_over_m"]))
    for name, size in (("jacfwd", fixed["n"]), ("jacrev", fixed["m"])):
        for what in ("flops", "seconds"):
            results.scalars[f"{name}/{what}_slope"] = slope(size, fixed[f"{name}/{what}"] / fixed[f"f/{what}"])
    results.notes.append(
        f"Timed on {AD.timing_context()}; float32, hidden width "
        f"{config.hidden}. Costs are normalized by f's before fitting slopes: with n * m fixed, f itself costs "
        "h (n + m), so the raw cost of jacfwd is flat for n << m; per f it grows as n.")
    results.notes.append(
        f"Slopes in the n * m = 2^{config.log2_product} sweep: jacfwd/f against n "
        f"{results.scalars['jacfwd/flops_slope']:.2f} (FLOPs), {results.scalars['jacfwd/seconds_slope']:.2f} "
        f"(time); jacrev/f against m {results.scalars['jacrev/flops_slope']:.2f} (FLOPs), "
        f"{results.scalars['jacrev/seconds_slope']:.2f} (time). Time slopes fall short of 1 where small "
        "programs are dominated by fixed dispatch cost.")
    return results


def _table_name(config: Config, label: str) -> str:
    if label == "product":
        return f"n * m = 2^{config.log2_product} (ms: minimum over repeats; XLA FLOP ratios)"
    return f"n = {config.fixed_n}, m growing"


def figures(results: Results, directory) -> None:
    fig, axes = plots.new_figure(ncols=2)
    a = results.arrays
    ax = axes[0, 0]
    n_over_m = a["product/n"] / a["product/m"]
    for name, marker in zip(STRATEGIES, "os^v"):
        ax.plot(n_over_m, a[f"product/{name}/seconds"], marker + "-", label=name)
    ax.axvline(1.0, color="gray", lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlabel="n / m  (n * m fixed)", ylabel="seconds (min over repeats)",
           title="Jacobian of f: R^n -> R^m")
    ax.legend()
    ax = axes[0, 1]
    for name, marker in zip(STRATEGIES, "os^v"):
        ax.plot(a["fixed_n/m"], a[f"fixed_n/{name}/seconds"], marker + "-", label=name)
    ax.axvline(a["fixed_n/n"][0], color="gray", lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlabel="m  (n fixed, dotted: m = n)", ylabel="seconds (min over repeats)",
           title=f"n = {int(a['fixed_n/n'][0])}")
    ax.legend()
    plots.save(fig, directory, "jacobian_crossover", **a)


CLAIMS = [
    Claim("jacfwd is faster than jacrev for n << m (time ratio jacfwd/jacrev at the smallest n)", "< 1 (0.015)",
          lambda r: r.scalars["time_ratio_smallest_n"], lambda v: v < 1.0, fmt="{:.3g}"),
    Claim("jacrev is faster than jacfwd for n >> m (time ratio jacfwd/jacrev at the largest n)", "> 1 (108)",
          lambda r: r.scalars["time_ratio_largest_n"], lambda v: v > 1.0, fmt="{:.3g}"),
    Claim("the crossover lies within a factor 8 of n = m (abs log2 of the fitted crossover n/m)", "<= 3",
          lambda r: r.scalars["crossover_log2_distance"], lambda v: v <= 3.0, fmt="{:.2f}"),
    Claim("jacfwd's FLOPs per f grow as n (fitted log-log slope)", "1",
          lambda r: r.scalars["jacfwd/flops_slope"], lambda v: 0.8 <= v <= 1.2, fmt="{:.3f}"),
    Claim("jacrev's FLOPs per f grow as m (fitted log-log slope)", "1",
          lambda r: r.scalars["jacrev/flops_slope"], lambda v: 0.8 <= v <= 1.2, fmt="{:.3f}"),
    Claim("jacfwd's time per f grows as n (fitted log-log slope)", "1",
          lambda r: r.scalars["jacfwd/seconds_slope"], lambda v: 0.7 <= v <= 1.3, fmt="{:.3f}"),
    Claim("jacrev's time per f grows as m (fitted log-log slope)", "1",
          lambda r: r.scalars["jacrev/seconds_slope"], lambda v: 0.7 <= v <= 1.3, fmt="{:.3f}"),
]


if __name__ == "__main__":
    main(NAME)
