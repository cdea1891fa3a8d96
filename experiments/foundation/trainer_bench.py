"""The trainer benchmark: does `common.train.fit` cost anything against the programs it replaces, and
does a sweep in one program pay?

    python run.py trainer-bench --preset quick     # MLP 2 x 32, 1 and 8 seeds, two sweep rounds
    python run.py trainer-bench --preset paper     # the documented table (docs/benchmarks.md)

One MLP classification step (MNIST-1D, MLP 2 x width ReLU, He init, Adam, batch 100, `supervised_step`)
is timed in interleaved rounds (`common.bench.interleaved`: every round times every variant once, in a
fresh random order) as `fit`'s compiled chunk and host loop (trainer), a bare jit(lax.scan) of the
vmapped step, a per-step jitted loop at one seed, and the bare scan again (A/A: the spread between two
identical programs widens every interval); then a sweep of learning rates x seeds as one `fit` against
the same fits one by one, every run building its steps anew (the scan programs:
research/foundation/trainer_programs.py). Trainer, bare scan and per-step loop start from the same
states, draw the same batches and end at the same parameters (`max_param_difference`). A ratio is a
speed (the other's seconds / this one's) per round; the claims read their median over rounds.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import optax
from matplotlib.ticker import FormatStrFormatter

from common import bench, plots, records, stats
from common.config import require_at_least_one, require_distinct, require_numbers_representable
from common.experiment import Claim, Control, NotRunAtPreset, Results, at_least
from common.members import learning_rate_sweep, with_hyperparams
from common.models import MLP
from common.train import (
    Loop,
    epoch_batches,
    fit,
    init_states,
    new_state,
    seed_keys,
    supervised_step,
)
from experiments.api import main
from research.foundation import trainer_programs as programs

NAME = "trainer-bench"
STUDY = "foundation"
PAPER = "theory-lab's own trainer: purejaxrl-style jit(vmap(scan)) training"
REPRODUCES = ("trainer >= 0.95x a bare jit(lax.scan) at 1/8/64 seeds, >= 1.5x a per-step jitted loop, "
              "a sweep of 8 lrs x 4 seeds in one program >= 3x the 8 fits one by one")


@dataclass(frozen=True)
class Config:
    """Trainer benchmark: MLP 2 x 100 on MNIST-1D, Adam, batch 100."""

    seeds: int = 4
    """Seeds of the sweep (8 lrs x 4 seeds); the trainer-vs-scan seed counts are `seed_counts`."""
    seed_counts: tuple[int, ...] = (1, 8, 64)
    """Numbers of vmapped seeds for trainer against bare scan."""
    steps: int = 1000
    """Optimizer steps per timed run (a multiple of chunk)."""
    chunk: int = 250
    """Steps per compiled lax.scan of the trainer."""
    rounds: int = 7
    """Interleaved rounds of the scan, trainer and per-step variants."""
    sweep_rates: int = 8
    """Learning rates of the sweep (log-spaced from 1e-3 to 3e-2)."""
    sweep_steps: int = 500
    """Steps of each sweep fit (a multiple of chunk)."""
    sweep_rounds: int = 3
    """Rounds of sweep against one-by-one (each round traces and lowers everything again)."""
    batch_size: int = 100
    """Examples per minibatch."""
    width: int = 100
    """Width of both hidden layers."""
    learning_rate: float = 1e-2
    """Adam step size of the timed step (the sweep uses its own log-spaced rates)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_distinct(self, ("seed_counts",))
        require_at_least_one(self, ("seeds", "steps", "chunk", "rounds", "sweep_rates",
                                    "sweep_steps", "sweep_rounds", "batch_size", "width"))
        if not self.seed_counts or min(self.seed_counts) < 1 or 1 not in self.seed_counts:
            raise ValueError(f"seed_counts must be positive counts including 1 (got {self.seed_counts})")
        for field in ("steps", "sweep_steps"):
            if getattr(self, field) % self.chunk:
                raise ValueError(f"{field} ({getattr(self, field)}) must be a multiple of chunk ({self.chunk})")
        if not 0 < self.learning_rate < float("inf"):
            raise ValueError(f"learning_rate must be positive and finite (got {self.learning_rate})")


PRESETS = {
    # quick: a narrower MLP, no 64-seed runs (their claim is "not run at this preset") and two sweep
    # rounds (each runs ten fits)
    "quick": Config(seed_counts=(1, 8), steps=500, chunk=250, rounds=9, sweep_steps=250, sweep_rounds=2,
                    width=32),
    "paper": Config(),
}


class Comparison(NamedTuple):
    """Speed of `faster` against `slower` (seconds(slower) / seconds(faster) per round)."""

    slower: str
    faster: str
    label: str                   # the table's row and the figure's tick
    calibration: str = "bare_1"  # the program timed against itself in the same rounds (A/A)
    goal: float | None = None    # the claim's threshold


def comparisons(seed_counts) -> dict[str, Comparison]:
    """The registry of ratios: record prefix -> Comparison (one entry per ratio)."""
    found = {f"trainer_vs_bare/{s}": Comparison(f"bare_{s}", f"trainer_{s}", f"trainer / bare scan, {s} seed(s)",
                                                goal=0.95) for s in seed_counts}
    return found | {
        "trainer_vs_per_step/1": Comparison("per_step_1", "trainer_1", "trainer / per-step loop, 1 seed", goal=1.5),
        "aa/1": Comparison("bare_1" + bench.AA_SUFFIX, "bare_1", "A/A: bare scan / itself, 1 seed"),
        "sweep_vs_one_by_one": Comparison("one_by_one", "sweep", "sweep in one fit / fits one by one", "sweep", 3.0),
        "aa/sweep": Comparison("sweep" + bench.AA_SUFFIX, "sweep", "A/A: sweep / itself", "sweep"),
    }


class Ratio(NamedTuple):
    """A comparison's per-round speed ratios: the median the table shows and the range beside it."""

    per_round: np.ndarray
    median: float
    low: float
    high: float


def ratio(slower: np.ndarray, faster: np.ndarray) -> Ratio:
    per_round = slower / faster
    return Ratio(per_round, float(np.median(per_round)), float(per_round.min()), float(per_round.max()))


def sweep_variants(dataset, width: int, rates: list[float], batch_size: int, steps: int, chunk: int,
                   keys) -> dict[str, bench.Staged]:
    """The rates x seeds as one fit (`sweep`) against one fit per rate (`one_by_one`); every run
    builds its steps anew, so each run traces and lowers what a user's run does."""
    model = MLP((width, width), dataset.num_classes, activation="relu", init="he")
    x1, data = dataset.x_train[:1], (dataset.x_train, dataset.y_train)
    loop, sampler = Loop(steps=steps, chunk=chunk), epoch_batches(batch_size)

    def one_program(_):
        sweep = learning_rate_sweep(optax.adam, rates)

        def init(key, member):
            params, model_state = model.init_variables(key, x1)
            return new_state(params, with_hyperparams(sweep.optimizer.init(params), member), key, model_state)

        return fit("sweep", init=init, step=supervised_step(model, sweep.optimizer), sample_batch=sampler,
                   data=data, loop=loop, keys=keys, members=sweep.members).state.params

    def one_by_one(_):
        out = []
        for rate in rates:
            optimizer = optax.adam(rate)

            def init(key, optimizer=optimizer):
                params, model_state = model.init_variables(key, x1)
                return new_state(params, optimizer.init(params), key, model_state)

            out.append(fit(f"lr{rate:.3g}", init=init, step=supervised_step(model, optimizer),
                           sample_batch=sampler, data=data, loop=loop, keys=keys).state.params)
        return out

    return {"sweep": bench.Staged(lambda: None, one_program), "one_by_one": bench.Staged(lambda: None, one_by_one)}


def scan_variants(prob, config: Config) -> tuple[dict, float]:
    """Trainer, bare scan and per-step loop at every seed count, warmed up, and the largest parameter
    difference between each and the bare scan after one run from the same states."""
    largest = init_states(prob.init, seed_keys(config.seed, max(config.seed_counts)), "seeds")
    variants, differences = {}, []
    for seeds in config.seed_counts:
        initial = programs.first_seeds(largest, seeds)
        found, params = programs.scan_variants(prob, config.steps, config.chunk, initial)
        variants |= found
        differences += [programs.max_difference(p, params[f"bare_{seeds}"]) for p in params.values()]
    return variants, max(differences)


def run(config: Config, session) -> Results:
    dataset = session.dataset("mnist1d")
    prob = programs.problem(dataset, config.width, config.learning_rate, config.batch_size)
    variants, difference = scan_variants(prob, config)
    # Warmed up above; the bare scan at one seed is also timed against itself (A/A).
    scan = bench.interleaved(variants, "bare_1", rounds=config.rounds, warmup=0, seed=config.seed)
    rates = np.geomspace(1e-3, 3e-2, config.sweep_rates).tolist()
    sweeps = sweep_variants(dataset, config.width, rates, config.batch_size, config.sweep_steps, config.chunk,
                            seed_keys(config.seed, config.seeds))
    for variant in sweeps.values():  # untimed: XLA compiles every program once (the persistent cache keeps some)
        variant.run(variant.setup())
    with programs.xla_programs() as built:  # each timed run builds its steps anew: traces and lowers them again
        sweep = bench.interleaved(sweeps, "sweep", rounds=config.sweep_rounds, warmup=0, seed=config.seed + 1)
    seconds = scan.seconds | sweep.seconds
    results = Results(arrays=scan.as_arrays("rounds") | sweep.as_arrays("rounds"))
    results.arrays["seed_counts"] = np.array(config.seed_counts)
    results.tables["Seconds per run"] = [{"variant": name, "median s": float(np.median(s)), "min s": float(s.min()),
                                          "max s": float(s.max())} for name, s in seconds.items()]
    rows = []
    for name, comparison in comparisons(config.seed_counts).items():
        found = ratio(seconds[comparison.slower], seconds[comparison.faster])
        records.put(results, name, found)
        rows.append({"comparison": comparison.label, "ratio": found.median, "low": found.low, "high": found.high,
                     "rounds": len(found.per_round)})
    results.tables["Speed ratios (median over rounds; range)"] = rows
    results.scalars["max_param_difference"] = difference
    records.put(results, "sweep_rounds", SweepPrograms(**built))
    results.notes += [(f"Trainer, bare scan and per-step loop end at parameters that differ by at most "
                      f"{difference:.3g} (same states, same batches); {config.steps} steps per timed run, chunk "
                      f"{config.chunk}, {config.rounds} interleaved rounds."), sweep_note(config, built)]
    return results


class SweepPrograms(NamedTuple):
    """The XLA programs JAX built in the timed sweep rounds (both variants, every round)."""

    programs: int    # each compiled by XLA or loaded from the persistent compilation cache
    cache_hits: int  # loaded from the cache
    seconds: float   # spent compiling and loading them


def sweep_note(config: Config, built: dict) -> str:
    return (f"Sweep rows: {config.sweep_rounds} timed rounds of {config.sweep_rates} learning rates x {config.seeds} "
            f"seeds, {config.sweep_steps} steps, after an untimed warm-up run of each variant. Every timed run traces "
            f"and lowers its programs; of the {built['programs']} XLA programs they built, {built['cache_hits']} came "
            f"from the persistent compilation cache and {built['programs'] - built['cache_hits']} were compiled "
            f"({built['seconds']:.3g} s in all): what a second run of a script pays, not a cold compile.")


def speed(r: Results, comparison: Comparison, needs: str | None = None) -> stats.Measurement:
    """The claim's speed ratio: median over rounds, its bootstrap interval widened by the A/A calibration.
    `needs`: the preset that times this pair when the run did not (its seed count not in seed_counts)."""
    if records.key("rounds", comparison.faster) not in r.arrays and needs is not None:
        raise NotRunAtPreset(needs, f"this run did not time {comparison.faster.replace('_', ' at ')} seed(s)")
    return bench.rounds_from_arrays(r.arrays, "rounds", comparison.calibration).ratio(comparison.slower,
                                                                                       comparison.faster)


def figures(results: Results, directory) -> None:
    found = comparisons(results.arrays["seed_counts"].tolist())
    fig, axes = plots.new_figure(width=9.5, height=4.0)
    ax = axes[0, 0]
    for i, (name, comparison) in enumerate(found.items()):
        values = records.get(results, name, Ratio).per_round
        measured = speed(results, comparison)
        ax.plot(np.full(values.shape, i), values, "o", color="C0", alpha=0.5, label="one round" if i == 0 else None)
        ax.errorbar([i + 0.2], [measured.value], yerr=[[measured.value - measured.interval[0]],
                    [measured.interval[1] - measured.value]], fmt="ks", ms=4, capsize=3,
                    label="median, 95% interval (bootstrap over rounds, widened by A/A)" if i == 0 else None)
        if comparison.goal is not None:
            ax.hlines(comparison.goal, i - 0.35, i + 0.35, colors="C3", linestyles="--")
            ax.annotate(f">= {comparison.goal:g}x", (i - 0.35, comparison.goal), xytext=(0, -9),
                        textcoords="offset points", fontsize=7, color="C3")
    ax.plot([], [], "--", color="C3", label="goal (the claim's threshold)")
    ax.axhline(1.0, ls=":", color="gray", label="equal speed")
    ax.set_xticks(range(len(found)), [c.label for c in found.values()], rotation=25, ha="right", fontsize=7)
    ax.set(ylabel="speed ratio (other's s / this one's)", title="trainer benchmark: speed ratios", yscale="log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    plots.save(fig, directory, "speed_ratios", **results.arrays)


def rounds(speedup: dict[tuple[str, str], float]) -> Results:
    """Synthetic rounds: `faster` runs `speedup` times as fast as `slower`, 5% noise; each A/A copy
    runs as fast as its program, 2% noise."""
    rng = np.random.default_rng(0)
    arrays = {}
    for (slower, faster), x in speedup.items():
        arrays[records.key("rounds", slower)] = 1e-2 * (1 + 0.05 * rng.standard_normal(15))
        arrays[records.key("rounds", faster)] = 1e-2 / x * (1 + 0.05 * rng.standard_normal(15))
    for calibration in ("bare_1", "sweep"):
        program = arrays.setdefault(records.key("rounds", calibration), np.full(15, 1e-2))
        arrays[records.key("rounds", calibration + bench.AA_SUFFIX)] = program * (1 + 0.02 * rng.standard_normal(15))
    return Results(arrays=arrays)


def speed_claim(comparison: Comparison, control_speed: float, control: str, statement: str,
                needs: str | None = None, aa: Comparison | None = None) -> Claim:
    """`aa`: the A/A pair timed in the same rounds, the run-time control of a claim whose goal is above 1x
    (a program against itself must not clear it); "at least 0.95x" claims have none (equal speed clears them)."""
    pair = (comparison.slower, comparison.faster)
    return Claim(statement=statement, paper=f">= {comparison.goal}x",
                 measure=lambda r: speed(r, comparison, needs), region=at_least(comparison.goal),
                 control=Control(name=control, results=lambda: rounds({pair: control_speed})),
                 passing=lambda: rounds({pair: 2 * comparison.goal}), fmt="{:.3f}",
                 baseline=None if aa is None else (lambda r: speed(r, aa)),
                 where="no paper: this project's speed goal for its trainer (docs/benchmarks.md)")


CLAIMED = comparisons((1, 8, 64))
CLAIMS = [
    *(speed_claim(CLAIMED[f"trainer_vs_bare/{s}"], 0.5, "a trainer at half the bare scan's speed",
                  f"the trainer runs at least 0.95x a bare jit(lax.scan) at {s} seed{'s' * (s > 1)}",
                  needs="quick" if s in PRESETS["quick"].seed_counts else "paper") for s in (1, 8, 64)),
    speed_claim(CLAIMED["trainer_vs_per_step/1"], 1.0, "a trainer no faster than the per-step loop (A/A; run "
                "time: the bare scan against itself)", "the trainer is at least 1.5x a per-step jitted loop at one "
                "seed (CPU)", aa=CLAIMED["aa/1"]),
    speed_claim(CLAIMED["sweep_vs_one_by_one"], 1.0, "a sweep no faster than the fits one by one (A/A; run time: "
                "the sweep against itself)", "a sweep of 8 lrs x 4 seeds in one program is at least 3x the 8 fits "
                "one by one, each run tracing and lowering its programs (XLA programs from the persistent "
                "compilation cache where kept)", aa=CLAIMED["aa/sweep"]),
]


if __name__ == "__main__":
    main(NAME)
