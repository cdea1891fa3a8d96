"""The cheap-gradient table and what reverse mode pays in memory.

    python run.py ad-cost --preset quick
    python run.py ad-cost --preset paper     # larger models and depths, for one GPU

Griewank & Walther: a gradient costs a small constant times the function ("often within a factor of 5"),
counted in operations and in memory traffic with every scan iteration counted, on an MLP, a CNN and a scanned
RNN (`research.autodiff.cheap_gradient`; XLA's figures and time beside them). Reverse-mode memory grows as L,
as L with per-layer checkpointing, as sqrt(L) with sqrt(L) segments, and a jvp's is flat
(`research.autodiff.remat`). Design and notes: docs/notes/autodiff.md.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from common import bench, plots, records, stats
from common.config import require_at_least_one, require_distinct, require_numbers_representable
from common.experiment import Claim, Control, Results, above, arrays, at_most, near, scalars
from experiments.api import main
from research.autodiff import cheap_gradient as CG
from research.autodiff import citations as C
from research.autodiff import costs as AD
from research.autodiff import remat as R

NAME = "ad-cost"
STUDY = "autodiff"
PAPER = "Griewank & Walther, Evaluating Derivatives (cheap gradient principle); Griewank 1992 (checkpointing)"
REPRODUCES = ("grad/f <= 5 in operations and in memory traffic (about 3 typical), loops counted per iteration, "
              "time shown beside; reverse memory ~ L, "
              "with sqrt(L) checkpointing ~ sqrt(L) for one extra forward pass; jvp memory flat in L")

MIN_PROGRAM_SECONDS = 1.5e-3  # timed programs are batched up to at least this (bench.MIN_TIMED_SECONDS is 1 ms)


@dataclass(frozen=True)
class Config:
    """Cost table of three model families at two or more sizes; remat memory against depth."""

    batch: int = 128
    """Batch of the cost-table models (operation counts); timing batches it up to >= 1.5 ms per call of f."""
    length: int = 40
    """Input length (MNIST-1D-like sequences) and RNN steps."""
    mlp_sizes: tuple[int, ...] = (128, 512)
    """Widths of a 4-hidden-layer tanh MLP."""
    cnn_sizes: tuple[int, ...] = (16, 32)
    """Channels of a 3-layer 1-D CNN."""
    rnn_sizes: tuple[int, ...] = (32, 128)
    """Hidden sizes of a scanned tanh RNN over the `length` steps."""
    depths: tuple[int, ...] = (4, 9, 16, 25, 36, 49, 64)
    """Depths L of the scanned MLP for the memory study (perfect squares make sqrt(L) segments exact)."""
    remat_width: int = 64
    """Width of the scanned tanh MLP of the memory study."""
    remat_batch: int = 128
    """Batch of the memory study (memory is reported in units of one (remat_batch, remat_width) activation)."""
    rounds: int = 15
    """Interleaved timing rounds (each times every program once, in random order, and f twice: A/A)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_distinct(self, ('mlp_sizes', 'cnn_sizes', 'rnn_sizes', 'depths'))
        require_at_least_one(self, ("batch", "length", "remat_width", "remat_batch"))
        for field in ("mlp_sizes", "cnn_sizes", "rnn_sizes"):
            if getattr(self, field):
                require_at_least_one(self, (field,))
        if self.rounds < 2:
            raise ValueError(f"rounds must be at least 2 (got {self.rounds})")
        if len(self.depths) < 3 or min(self.depths) < 1:
            raise ValueError(f"depths needs three or more positive values to tell two fits apart (got {self.depths})")
        if not (self.mlp_sizes or self.cnn_sizes or self.rnn_sizes):
            raise ValueError("give at least one model size")


PRESETS = {
    "quick": Config(depths=(4, 16, 36, 64)),  # memory is exact: 4 depths tell L from sqrt(L) (see the docs)
    "paper": Config(batch=4096, mlp_sizes=(1024, 4096), cnn_sizes=(64, 256), rnn_sizes=(256, 1024),
                    depths=(4, 16, 36, 64, 144, 256, 400), remat_width=1024, remat_batch=1024, rounds=30),
}


class ModelSummary(NamedTuple):
    """Under <model>: the A/A interval of f against itself, and the forward-mode gradient (one jvp per
    parameter) over f, the claims' run-time control."""

    parameters: int
    aa_low: float
    aa_high: float
    forward_mode_gradient_flop_ratio: float
    forward_mode_gradient_traffic_ratio: float


class CheapGradient(NamedTuple):
    """grad / f of every model (arrays over the models, under "grad")."""

    models: np.ndarray  # keys of time/<model>: "MLP128", ...
    flop_ratio: np.ndarray
    traffic_ratio: np.ndarray
    forward_mode_flop_ratio: np.ndarray
    forward_mode_traffic_ratio: np.ndarray


def cheap_gradient(config: Config, results: Results) -> None:
    """Every model's cost: records <model>/<transform> (Ratios), <model> (ModelSummary) and "grad"
    (CheapGradient), the rounds under time/<model>, and the three tables."""
    tables, too_small, summaries = {name: [] for name in CG.TABLE_TITLES}, [], {}
    for model in CG.models({"MLP": config.mlp_sizes, "CNN": config.cnn_sizes, "RNN": config.rnn_sizes}):
        cost = CG.model_cost(model, config.batch, config.length, config.seed, config.rounds, MIN_PROGRAM_SECONDS)
        too_small += [f"{model.key} {name}" for name in cost.rounds.too_small]
        results.arrays |= cost.rounds.as_arrays(f"time/{model.key}")
        for name in cost.counts:
            records.put(results, f"{model.key}/{name}", CG.ratios(cost, name))
        aa = stats.bootstrap_median(cost.rounds.aa()).interval
        summaries[model.key] = (CG.ratios(cost, "grad"), CG.forward_mode_gradient(cost))
        records.put(results, model.key, ModelSummary(cost.parameters, *aa, *summaries[model.key][1]))
        for name, rows in CG.table_rows(model, cost).items():
            tables[name] += rows
    grads, forward = zip(*summaries.values())
    records.put(results, "grad", CheapGradient(np.array(list(summaries)), *np.array(
        [[g.flop_ratio for g in grads], [g.traffic_ratio for g in grads], *np.transpose(forward)])))
    results.tables |= {title: tables[name] for name, title in CG.TABLE_TITLES.items()}
    results.notes += ([AD.too_small_line(too_small)] if too_small else []) + CG.summary_notes(tables["summary"])


class Temp(NamedTuple):
    """Under remat/<program>: XLA temp memory per depth (activations) and operations over f at the deepest."""

    temp: np.ndarray
    flops_over_f: float


def remat_memory(config: Config, results: Results) -> None:
    study = R.remat_study(config.depths, config.remat_width, config.remat_batch, config.seed, config.rounds)
    flops = {name: count.flops for name, count in study.counts.items()}
    results.arrays["remat/depth"] = np.array(config.depths, float)
    for name in R.MEMORY_STUDIED:
        records.put(results, f"remat/{name}", Temp(study.temp[name], flops[name] / flops["f"]))
    results.scalars["remat/sqrt/flops_over_none"] = flops["sqrt"] / flops["none"]
    results.scalars["remat/per_layer/flops_over_none"] = flops["per_layer"] / flops["none"]
    results.arrays |= study.rounds.as_arrays("remat_time")
    results.tables |= R.remat_tables(study, config.depths)
    results.notes.append(
        f"Memory study: float32, width {config.remat_width}, batch {config.remat_batch}; temp is XLA's "
        "temp_size_in_bytes of the compiled program, in units of one (batch, width) activation.")


def run(config: Config, session) -> Results:
    results = Results()
    cheap_gradient(config, results)
    remat_memory(config, results)
    results.notes.insert(0, (
        f"Timed on {AD.timing_context()}; float32. Operation counts come from the jaxpr with every scan "
        "iteration counted (matmul 2 x MACs, elementwise ops and reductions one per element, transcendentals "
        "one per element), and so does the memory traffic (the bytes every operation reads and writes, before "
        "XLA fuses operations); for the MLP and CNN the operations agree with XLA's cost analysis, for the RNN "
        f"XLA counts each scan body once, {config.length} times fewer."))
    return results


def figures(results: Results, directory) -> None:
    fig, axes = plots.new_figure(ncols=2)
    depth, ax = results.arrays["remat/depth"], axes[0, 0]
    for name, label in (("none", "grad, no remat"), ("per_layer", "grad, checkpoint per layer"),
                        ("sqrt", "grad, sqrt(L) segments"), ("jvp", "jvp")):
        y = records.get(results, f"remat/{name}", Temp).temp
        ax.plot(depth, y, "o", label=label)
        basis = np.sqrt(depth) if R.compare_growth(depth, y).sqrt_margin > 0 else depth
        ax.plot(depth, np.polyval(np.polyfit(basis, y, 1), basis), "-", lw=0.8, color=ax.lines[-1].get_color())
    ax.set(xlabel="depth L", ylabel="XLA temp memory (activations)", title="stored memory (lines: better fit)")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    grad = records.get(results, "grad", CheapGradient)
    timing = [bench.rounds_from_arrays(results.arrays, f"time/{m}", "f").ratio("grad") for m in grad.models]
    position = np.arange(len(grad.models))
    ax.bar(position - 0.27, grad.flop_ratio, 0.27, label="operations (loops counted)")
    ax.bar(position, grad.traffic_ratio, 0.27, label="memory traffic (loops counted)")
    ax.bar(position + 0.27, [t.value for t in timing], 0.27, label="time (median, 95%)",
           yerr=np.array([[t.value - t.interval[0] for t in timing], [t.interval[1] - t.value for t in timing]]))
    ax.axhline(5, ls=":", color="k", lw=0.8)
    ax.set_xticks(position, grad.models, rotation=30)
    ax.set(ylabel="grad / f", title="cheap gradient (dotted: 5)")
    ax.legend(fontsize=7)
    plots.save(fig, directory, "remat_memory_time", depth=depth, grad_over_f_operations=grad.flop_ratio,
               **{name: records.get(results, f"remat/{name}", Temp).temp for name in R.MEMORY_STUDIED})


def grad_ratio(field: str, extreme=np.max) -> Callable[[Results], float]:
    """The largest grad/f `field` over the models (`np.min`: the smallest, for the forward-mode control)."""
    return lambda r: float(extreme(getattr(records.get(r, "grad", CheapGradient), field)))


def growth(name: str, read: Callable[[R.GrowthFit], float]) -> Callable[[Results], float]:
    """`read` of the fits a + b L and a + b sqrt(L) to remat/<name>'s memory against depth."""
    return lambda r: read(R.compare_growth(r.arrays["remat/depth"], r.arrays[f"remat/{name}/temp"]))


# Synthetic cases for the contract test -----------------------------------------------------------------

def grad_ratios(value: float, forward_mode: float = 2.0e4) -> Callable[[], Results]:
    """Two models: grad / f 3.0 and `value` in operations and in traffic; the forward-mode gradient's."""
    def build(results: Results) -> Results:
        records.put(results, "grad", CheapGradient(np.array(["MLP128", "RNN32"]), np.array([3.0, value]),
                                                   np.array([3.0, value]), *np.full((2, 2), forward_mode)))
        return results
    return lambda: build(Results())


def memory_claim(statement: str, paper: str, program: str, read, region, control: str, curves, where: str) -> Claim:
    """`read` of `program`'s memory fits against depth in `region`; the same read of the run's `control` program
    is the run-time control; curves: the synthetic (control, passing) memory of depth."""
    return Claim(statement=statement, paper=paper, measure=growth(program, read), region=region, where=where,
                 control=Control(name=f"{LABELS[control]}'s memory (run time)",
                                 results=arrays(R.memory_curves(**{program: curves[0]}))),
                 passing=arrays(R.memory_curves(**{program: curves[1]})), baseline=growth(control, read), fmt="{:+.3f}")


LABELS = {"none": "no-remat grad", "sqrt": "sqrt(L)-segment checkpointing"}
LINEAR, SQRT, SLOPE = (lambda fit: fit.linear_margin), (lambda fit: fit.sqrt_margin), (lambda fit: fit.linear_slope)
# The margin 0.02: exactly linear memory over these depths is fit by a + b sqrt(L) with an rms residual of
# ~0.05 of its range (and exact sqrt by a line with ~0.04), so 0.02 asks for a clear preference; XLA's
# memory figures are deterministic (no interval).
CLAIMS = [
    Claim(statement="grad/f <= 5 in operations, every model (largest ratio; scan iterations counted)",
          paper="<= 5 (about 3 typical)", measure=grad_ratio("flop_ratio"), region=at_most(5.0),
          control=Control(name="forward-mode gradient (one jvp per parameter)", results=grad_ratios(2.0e4)),
          passing=grad_ratios(3.1), baseline=grad_ratio("forward_mode_flop_ratio", np.min), fmt="{:.2f}",
          where=C.CHEAP_GRADIENT),
    Claim(statement="grad/f <= 5 in memory traffic, every model (largest ratio of the bytes every operation reads and "
                    "writes, before fusion; scan iterations counted)",
          paper="<= 5 (Griewank & Walther count moves too)", measure=grad_ratio("traffic_ratio"), region=at_most(5.0),
          control=Control(name="forward-mode gradient (one jvp per parameter)", results=grad_ratios(2.0e4)),
          passing=grad_ratios(3.4), baseline=grad_ratio("forward_mode_traffic_ratio", np.min), fmt="{:.2f}",
          where=C.CHEAP_GRADIENT_MOVES),
    memory_claim("reverse-mode memory without remat grows linearly in L (a + b L fits better than a + b sqrt(L), by "
                 "rms residual over range)", "~ L", "none", LINEAR, above(0.02), "sqrt", (R.sqrt_curve, R.linear_curve),
                 C.REVERSE_MEMORY),
    memory_claim("per-layer checkpointing memory still grows linearly in L (fit margin of a + b L)", "~ L (smaller b)",
                 "per_layer", LINEAR, above(0.02), "sqrt", (R.sqrt_curve, R.linear_curve), C.CHECKPOINTING),
    memory_claim("sqrt(L)-segment checkpointing memory grows as sqrt(L) (a + b sqrt(L) fits better than a + b L)",
                 "~ sqrt(L)", "sqrt", SQRT, above(0.02), "none", (R.linear_curve, R.sqrt_curve), C.CHECKPOINTING),
    memory_claim("jvp memory is flat in L (slope of a + b L, activations per layer)", "0", "jvp", SLOPE, near(0.0, 0.1),
                 "none", (R.linear_curve, R.flat_curve), C.FORWARD_MEMORY),
    Claim(statement="sqrt(L) checkpointing costs about one extra forward pass (grad operations over no-remat grad, "
                    "deepest)",
          paper="~4/3", measure=lambda r: r.scalars["remat/sqrt/flops_over_none"], region=at_most(1.5),
          control=Control(name="a program of known larger extra cost: no-remat grad over f, deepest (~3; run time)",
                          results=scalars({"remat/sqrt/flops_over_none": 64 / 3})),
          passing=scalars({"remat/sqrt/flops_over_none": 4 / 3}),
          baseline=lambda r: records.get(r, "remat/none", Temp).flops_over_f, fmt="{:.3f}", where=C.CHECKPOINTING),
]


if __name__ == "__main__":
    main(NAME)
