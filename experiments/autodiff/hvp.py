"""Hessian-vector products four ways: agreement in float64, XLA FLOPs and memory, and time in float32.

    python run.py ad-hvp --preset quick
    python run.py ad-hvp --preset paper     # larger MLP, more repeats, for one GPU

The JAX Autodiff Cookbook's forward-over-reverse, reverse-over-forward, reverse-over-reverse and full-Hessian
HVPs of sum(tanh(X)^2) and of an MLP loss; Pearlmutter (1994): an HVP costs a constant times a gradient.
The Cookbook's "most efficient" is read on XLA's temporaries and, with a 10% margin, on time in interleaved
rounds with an A/A. Measurements: `research.autodiff.hvp_study`; design and notes: docs/notes/autodiff.md.
"""

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from common import bench, plots
from common.config import require_at_least_one, require_numbers_representable
from common.experiment import Claim, Control, Results, at_most, below, near, scalars
from experiments.api import main
from research.autodiff import citations as C
from research.autodiff import costs as AD
from research.autodiff import hvp_measures as M
from research.autodiff import hvp_study as S
from research.autodiff.hvp_measures import LABELS, key
from research.autodiff.hvp_study import TIMED

NAME = "ad-hvp"
STUDY = "autodiff"
PAPER = "JAX Autodiff Cookbook (Hessian-vector products); Pearlmutter 1994"
REPRODUCES = ("four HVPs agree to 1e-10 in float64; an HVP costs <= 4 gradients in FLOPs (Pearlmutter); "
              "forward-over-reverse needs the least XLA temp memory and is the fastest, by 10% or more")

@dataclass(frozen=True)
class Config:
    """HVPs of the Cookbook's function and of an MLP loss."""

    seeds: int = 3
    """Random (x, v) draws on which the four methods must agree in float64."""
    cookbook_shape: tuple[int, int] = (30, 40)
    """Shape of X in the Cookbook's f(X) = sum(tanh(X)^2)."""
    mlp_width: int = 32
    """Width of the 2-hidden-layer tanh MLP (inputs of length 40, 10 classes)."""
    batch: int = 64
    """Examples in the fixed batch of the MLP loss."""
    max_hessian_dim: int = 4096
    """The full-Hessian method runs only up to this many parameters (it stores dim^2 numbers)."""
    cookbook_time_batch: int = 1024
    """HVPs of the Cookbook's function vmapped into one timed program (one is ~20 us)."""
    mlp_time_batch: int = 32
    """HVPs of the MLP loss vmapped into one timed program."""
    rounds: int = 21
    """Interleaved timing rounds (each times every method once in random order, plus an A/A)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_at_least_one(self, ("seeds", "mlp_width", "batch", "max_hessian_dim", "cookbook_time_batch",
                                    "mlp_time_batch", "cookbook_shape"))
        if self.rounds < 2:
            raise ValueError(f"rounds must be at least 2 (got {self.rounds})")


PRESETS = {
    "quick": Config(max_hessian_dim=1500),  # the Cookbook's 1200-dim full Hessian; the MLP's 2698 in "paper"
    "paper": Config(seeds=5, mlp_width=64, batch=1024, max_hessian_dim=8192, mlp_time_batch=64, rounds=51),
}


def agreement(config: Config, results: Results) -> dict:
    """The float64 agreement scalars; returns the per-(function, method) gaps for the table."""
    found = S.agreement(lambda rng: S.problems(config.cookbook_shape, config.mlp_width, config.batch, rng,
                                               jnp.float64), config.seeds, config.seed, config.max_hessian_dim)
    results.scalars |= {f"agreement/{name}/{m}": gap for (name, m), gap in found.gaps.items()}
    results.scalars |= {"agreement/worst": found.worst,
                        "agreement/control_finite_difference": found.control_finite_difference}
    return found.gaps


def memory_and_time(config: Config, results: Results, gaps: dict) -> None:
    """XLA FLOPs and temp bytes of one HVP per method and of one gradient (scalars flops/<label>/<method>,
    temp/<label>/<method>); time of a vmapped batch of HVPs per timed method (time/<label>). The full Hessian
    is not timed: it costs n HVPs' FLOPs, and its table row shows them."""
    rows = []
    rng = np.random.default_rng(config.seed)
    counts = {"cookbook": config.cookbook_time_batch, "mlp": config.mlp_time_batch}
    for label, (name, problem) in zip(LABELS, S.problems(config.cookbook_shape, config.mlp_width, config.batch, rng,
                                                               jnp.float32).items()):
        grad_flops, costs = S.compiled_figures(problem, config.max_hessian_dim)
        results.scalars[key("flops", label, "grad")] = grad_flops
        results.scalars |= {key(figure, label, m): c[name] for m, c in costs.items()
                            for figure, name in (("temp", "temp_bytes"), ("flops", "flops"))}
        rounds, too_small = S.timed(problem, counts[label], rng, config.rounds, config.seed, name)
        results.notes.extend(too_small)
        results.arrays |= rounds.as_arrays(f"time/{label}")
        rows += S.table_rows(name, grad_flops, costs, rounds, counts[label], gaps)
    results.tables[f"Hessian-vector products: XLA FLOPs (and over one gradient's) and temp memory of one HVP, "
                   f"time of a vmapped batch (median of {config.rounds} interleaved rounds, float32)"] = rows


def run(config: Config, session) -> Results:
    results = Results()
    memory_and_time(config, results, agreement(config, results))
    temps = ", ".join(f"{m} {results.scalars[key('temp', 'mlp', m)] / 1024:.0f} KiB" for m in TIMED)
    results.notes.append(
        f"Timed on {AD.timing_context()}. Agreement: float64, highest matmul precision, relative to the largest "
        f"entry of H v. XLA temporaries of the equal-FLOP HVPs on the MLP loss: {temps} (the Cookbook's elementwise "
        "function fuses into one kernel with none for every method, so the memory claim reads the MLP).")
    worst = M.worst_time_ratio(results.arrays)
    aa = " and ".join(f"{M.aa_of(results.arrays, label):.3g}" for label in LABELS)
    results.notes.append(f"Time: the worst ratio fwd_over_rev / other is "
                         f"{f'{worst:.3g}' if worst.interval else f'not measured ({worst.how})'} against the "
                         f"threshold 0.9; the A/A ratios (a program against itself) are {aa}.")
    return results


def figures(results: Results, directory) -> None:
    fig, axes = plots.new_figure(ncols=2)
    ax = axes[0, 0]
    temps = [results.scalars[key("temp", "mlp", m)] / 1024 for m in TIMED]
    ax.bar(range(len(TIMED)), temps)
    ax.set_xticks(range(len(TIMED)), [m.replace("_", "\n") for m in TIMED])
    ax.set(ylabel="XLA temp KiB (one HVP)", title="MLP loss: temporaries of the equal-FLOP HVPs")
    ax = axes[0, 1]
    for i, label in enumerate(LABELS):
        rounds = bench.rounds_from_arrays(results.arrays, f"time/{label}", "fwd_over_rev")
        for j, m in enumerate((*TIMED, "fwd_over_rev" + bench.AA_SUFFIX)):
            ms = rounds.seconds[m] * 1e3
            ax.plot(np.full(ms.size, j + 0.15 * (2 * i - 1)), ms, "o" if i == 0 else "s", alpha=0.5,
                    color=f"C{i}", label=label if j == 0 else None)
    ax.set_xticks(range(len(TIMED) + 1), [m.replace("_", "\n") for m in TIMED] + ["A/A"])
    ax.set(yscale="log", ylabel="ms per batch of HVPs (each round)", title="interleaved rounds")
    ax.legend()
    plots.save(fig, directory, "hvp_memory_and_time", **results.arrays)


# Tolerances: float64 HVPs agree to ~1e-15; the control (a forward difference of gradients) is off by ~1e-6, so
# 1e-10 separates them by four orders. Temp bytes are exact counts from XLA's buffer assignment: "least" is strict
# (< 1), so a method compared with itself (1.0) does not pass. FLOPs are exact counts: an HVP is a forward and a
# reverse pass over the gradient's, 2-3 gradients (Pearlmutter's constant), so <= 4 separates it from the full
# Hessian's n gradients. The time claim reads the Cookbook's "most efficient" as faster by 10% or more (< 0.9): a
# tie, within this CPU's noise of 1, must fail it; 21 interleaved rounds, each ratio's interval widened by its
# function's A/A.
CLAIMS = [
    Claim(statement="the four HVPs agree in float64 (largest relative gap to forward-over-reverse)",
          paper="<= 1e-10", measure=lambda r: r.scalars["agreement/worst"], region=near(0.0, 1e-10),
          control=Control(name="a forward difference of gradients, eps = 1e-6",
                          results=scalars({"agreement/worst": 1e-6, "agreement/control_finite_difference": 1e-6})),
          passing=scalars({"agreement/worst": 1e-15, "agreement/control_finite_difference": 1e-6}),
          baseline=lambda r: r.scalars["agreement/control_finite_difference"], fmt="{:.2e}", where=C.HVP),
    Claim(statement="an HVP costs a constant times a gradient: every matrix-free HVP's XLA FLOPs over the gradient's "
                    "(largest over methods and both functions)",
          paper="O(1) gradients (Pearlmutter 1994)", measure=lambda r: M.hvp_over_grad(r.scalars),
          region=at_most(4.0), control=Control(name="H v by forming the full Hessian (n gradients)",
                                               results=scalars(M.flops_case(1200.0, 1.0))),
          passing=scalars(M.flops_case(2.5, 1.0, 1200.0)), baseline=lambda r: M.full_hessian_over_grad(r.scalars),
          fmt="{:.2f}", where=C.PEARLMUTTER),
    Claim(statement="forward-over-reverse needs the least XLA temp memory (MLP loss: its temp bytes over the smaller of "
                    "reverse-over-forward's and reverse-over-reverse's)",
          paper="most efficient (Cookbook)", measure=lambda r: M.temp_ratio(r.scalars, "mlp", "fwd_over_rev"),
          region=below(1.0), control=Control(name="reverse-over-reverse in its place",
                                             results=scalars(M.temps_case(81920, 65536))),
          passing=scalars(M.temps_case(65536, 81920)),
          baseline=lambda r: M.temp_ratio(r.scalars, "mlp", "rev_over_rev"), fmt="{:.3f}", where=C.HVP),
    Claim(statement="forward-over-reverse is the fastest HVP, by 10% or more (worst time ratio to the other two, "
                    "interleaved rounds, A/A-widened)",
          paper="most efficient (Cookbook)", measure=lambda r: M.worst_time_ratio(r.arrays),
          region=below(0.9), control=Control(name="a tie: the same program three times",
                                             results=lambda: Results(arrays=M.rounds_case(1.0))),
          passing=lambda: Results(arrays=M.rounds_case(0.7)), baseline=lambda r: M.worst_aa(r.arrays), fmt="{:.3f}",
          where=C.HVP),
]


if __name__ == "__main__":
    main(NAME)
