"""The cheap-gradient table and what reverse mode pays in memory.

    python run.py ad-cost --preset quick     # ~50 s on the shared 2-core CPU
    python run.py ad-cost --preset paper     # larger models and depths, for one GPU

Griewank & Walther ("Evaluating Derivatives"): a gradient costs a small
constant times the function, "often within a factor of 5" (about 3 is
typical; omega_tangent ~ 2-2.5, omega_gradient ~ 3-4). The table gives time
and XLA FLOPs of f, jvp, vjp and grad (of a softmax cross-entropy loss, with
respect to the parameters) for an MLP, a CNN and a scanned RNN, built with the
public tool `research.autodiff.cost_table`.

Memory: reverse mode keeps the forward pass's intermediates, so its temporary
memory grows with depth; per-layer `jax.checkpoint` stores only layer inputs,
sqrt(L)-segment checkpointing only segment boundaries plus one segment
(~ sqrt(L)), for about one extra forward pass (Griewank 1992 recursive
checkpointing goes to log L). A jvp stores nothing: flat in L. Reference
(raw JAX, H200, float32, 8-layer tanh MLP width 4096, batch 4096):
grad/f 3.14, jvp/f 2.79 in time.
"""

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from common import plots
from common.config import require_at_least_one
from common.experiment import Claim, Results
from common.models import CNN, MLP
from common.nn import softmax_cross_entropy
from experiments.api import main
from research import autodiff as AD
from research import autodiff_remat as R

NAME = "ad-cost"
STUDY = "autodiff"
PAPER = "Griewank & Walther, Evaluating Derivatives (cheap gradient principle); Griewank 1992 (checkpointing)"
REPRODUCES = ("grad/f <= 5 in time and FLOPs (about 3 typical); reverse memory ~ L, with sqrt(L) "
              "checkpointing ~ sqrt(L) at bounded extra time; jvp memory flat in L")
QUICK_SECONDS = 50

TRANSFORMS = ("f", "jvp", "vjp", "grad")
NUM_CLASSES = 10


@dataclass(frozen=True)
class Config:
    """Cost table of three model families at two or more sizes; remat memory against depth."""

    seeds: int = 1
    """Random initializations per model (times are the median over them)."""
    batch: int = 128
    """Batch of the cost-table models."""
    length: int = 40
    """Input length (MNIST-1D-like sequences) and RNN steps."""
    mlp_sizes: tuple[int, ...] = (128, 512)
    """Widths of a 4-hidden-layer tanh MLP."""
    cnn_sizes: tuple[int, ...] = (16, 32)
    """Channels of a 3-layer 1-D CNN."""
    rnn_sizes: tuple[int, ...] = (32, 128)
    """Hidden sizes of a scanned tanh RNN over the `length` steps."""
    depths: tuple[int, ...] = (4, 16, 36, 64)
    """Depths L of the scanned MLP for the memory study (perfect squares make sqrt(L) segments exact)."""
    remat_width: int = 64
    remat_batch: int = 128
    repeats: int = 5
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "batch", "length", "remat_width", "remat_batch", "repeats"))
        if len(self.depths) < 2 or min(self.depths) < 1:
            raise ValueError(f"depths needs two or more positive values (got {self.depths})")
        if not (self.mlp_sizes or self.cnn_sizes or self.rnn_sizes):
            raise ValueError("give at least one model size")


PRESETS = {
    "quick": Config(),
    "paper": Config(batch=4096, mlp_sizes=(1024, 4096), cnn_sizes=(64, 256), rnn_sizes=(256, 1024),
                    depths=(4, 16, 64, 144, 256, 400), remat_width=1024, remat_batch=1024, repeats=20),
}


def init_rnn(key, hidden: int) -> dict:
    """Elman RNN h_t = tanh(W h_{t-1} + u x_t + b), logits = V h_T (LeCun-scaled)."""
    kw, ku, kv = jax.random.split(key, 3)
    return {"w": jax.random.normal(kw, (hidden, hidden)) / np.sqrt(hidden),
            "u": jax.random.normal(ku, (hidden,)), "b": jnp.zeros(hidden),
            "v": jax.random.normal(kv, (hidden, NUM_CLASSES)) / np.sqrt(hidden)}


def rnn_loss(params, x, y):
    def step(h, x_t):  # x_t: (batch,)
        return jnp.tanh(h @ params["w"] + x_t[:, None] * params["u"] + params["b"]), None

    h, _ = jax.lax.scan(step, jnp.zeros((x.shape[0], params["w"].shape[0])), x.T)
    return softmax_cross_entropy(h @ params["v"], y)


def model_losses(config: Config):
    """(family, size, loss(params, x, y), init(key, x)) for every model of the table."""
    def flax_like(model):
        def loss(params, x, y):
            return softmax_cross_entropy(model.apply(params, {}, x, train=False)[0], y)

        return loss, lambda key, x: model.init_variables(key, x)[0]

    for width in config.mlp_sizes:
        yield ("MLP", width, *flax_like(MLP((width,) * 4, NUM_CLASSES, activation="tanh", init="lecun")))
    for channels in config.cnn_sizes:
        yield ("CNN", channels, *flax_like(CNN((channels,) * 3, NUM_CLASSES, kernel=5, stride=2, padding=1)))
    for hidden in config.rnn_sizes:
        yield "RNN", hidden, rnn_loss, lambda key, x, hidden=hidden: init_rnn(key, hidden)


def cost_rows(config: Config, results: Results) -> None:
    rows = []
    for family, size, loss, init in model_losses(config):
        kx, ky = jax.random.split(jax.random.key(config.seed))
        x = jax.random.normal(kx, (config.batch, config.length))
        y = jax.random.randint(ky, (config.batch,), 0, NUM_CLASSES)
        tables = [AD.cost_table(loss, init(jax.random.fold_in(jax.random.key(config.seed), s), x), x, y,
                                measure=AD.fastest_of(config.repeats), include=TRANSFORMS)
                  for s in range(config.seeds)]
        for i, name in enumerate(TRANSFORMS):
            time_ratio = float(np.median([t[i].time_ratio for t in tables]))
            flop_ratio = float(np.median([t[i].flop_ratio for t in tables]))
            rows.append({"model": f"{family} {size}", "transform": name,
                         "ms": float(np.median([t[i].cost.seconds for t in tables])) * 1e3,
                         "time / f": time_ratio, "MFLOP": tables[0][i].cost.flops / 1e6, "FLOPs / f": flop_ratio,
                         "temp MiB": tables[0][i].cost.temp_bytes / 2**20})
            results.scalars[f"{family}{size}/{name}/time_ratio"] = time_ratio
            results.scalars[f"{family}{size}/{name}/flop_ratio"] = flop_ratio
    results.tables["Cost of f, jvp, vjp and grad (loss w.r.t. parameters; ms: minimum over repeats)"] = rows
    grads = [r for r in rows if r["transform"] == "grad"]
    results.scalars["grad/max_time_ratio"] = max(r["time / f"] for r in grads)
    results.scalars["grad/max_flop_ratio"] = max(r["FLOPs / f"] for r in grads)
    results.scalars["grad/median_time_ratio"] = float(np.median([r["time / f"] for r in grads]))
    results.scalars["grad/median_flop_ratio"] = float(np.median([r["FLOPs / f"] for r in grads]))
    results.arrays["table/time_ratio"] = np.array([r["time / f"] for r in rows])
    results.arrays["table/flop_ratio"] = np.array([r["FLOPs / f"] for r in rows])


def remat_rows(config: Config, results: Results) -> None:
    """Temp memory (XLA memory analysis) and time of grad under each schedule, and of a jvp, against depth."""
    x = jax.random.normal(jax.random.key(config.seed), (config.remat_batch, config.remat_width))
    measure = AD.fastest_of(config.repeats)
    columns = {f"{s}/{what}": [] for s in (*R.REMAT_SCHEDULES, "jvp", "f") for what in ("temp", "seconds")}
    for depth in config.depths:
        params = R.init_scanned_mlp(jax.random.key(config.seed), depth, config.remat_width)
        programs = {s: (jax.grad(functools.partial(R.scanned_mlp_loss, schedule=s)), (params, x))
                    for s in R.REMAT_SCHEDULES}
        programs["jvp"] = (lambda p, t, x: jax.jvp(lambda q: R.scanned_mlp_loss(q, x), (p,), (t,)), (params, params, x))
        programs["f"] = (R.scanned_mlp_loss, (params, x))
        for name, (fn, args) in programs.items():
            timing = measure(fn, *args)
            columns[f"{name}/temp"].append(timing.temp_bytes)
            columns[f"{name}/seconds"].append(timing.seconds)
    depths = np.array(config.depths, float)
    results.arrays["remat/depth"] = depths
    results.arrays.update({f"remat/{k}": np.array(v) for k, v in columns.items()})
    activation = config.remat_batch * config.remat_width * 4
    results.tables["Scanned tanh MLP: temp memory (XLA) and time against depth"] = [
        {"depth": int(d), **{f"{s} temp (activations)": columns[f"{s}/temp"][i] / activation
                             for s in (*R.REMAT_SCHEDULES, "jvp")},
         **{f"{s} ms": columns[f"{s}/seconds"][i] * 1e3 for s in (*R.REMAT_SCHEDULES, "jvp", "f")}}
        for i, d in enumerate(config.depths)]
    for name in (*R.REMAT_SCHEDULES, "jvp"):
        temp = np.array(columns[f"{name}/temp"])
        results.scalars[f"remat/{name}/memory_slope"] = float(np.polyfit(np.log(depths), np.log(temp), 1)[0])
    deepest = -1
    results.scalars["remat/sqrt/time_over_none"] = columns["sqrt/seconds"][deepest] / columns["none/seconds"][deepest]
    results.scalars["remat/per_layer/time_over_none"] = (
        columns["per_layer/seconds"][deepest] / columns["none/seconds"][deepest])
    results.scalars["remat/sqrt/memory_over_none"] = columns["sqrt/temp"][deepest] / columns["none/temp"][deepest]
    results.notes.append(
        "Memory study: float32, width "
        f"{config.remat_width}, batch {config.remat_batch}; temp is XLA's temp_size_in_bytes of the compiled "
        "program, in units of one (batch, width) activation. Slopes are log-log fits over depth.")


def run(config: Config, session) -> Results:
    results = Results()
    cost_rows(config, results)
    remat_rows(config, results)
    results.notes.insert(0, (
        f"Timed on {AD.timing_context()}; float32, batch {config.batch}. Times are the minimum over repeats; "
        "FLOP ratios are exact and load-independent. "
        "XLA's cost analysis counts a loop body once, so the RNN's FLOPs are per time step; the ratios to f "
        "compare per-step figures (the forward and backward scans each counted once)."))
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    fig, axes = plots.new_figure(ncols=2)
    depth = a["remat/depth"]
    ax = axes[0, 0]
    for name, label in (("none", "grad, no remat"), ("per_layer", "grad, checkpoint per layer"),
                        ("sqrt", "grad, sqrt(L) segments"), ("jvp", "jvp")):
        ax.plot(depth, a[f"remat/{name}/temp"] / 2**20, "o-", label=label)
    ax.set(xscale="log", yscale="log", xlabel="depth L", ylabel="temp memory (MiB, XLA)",
           title="what differentiation stores")
    ax.legend()
    ax = axes[0, 1]
    for name, label in (("none", "grad, no remat"), ("per_layer", "grad, checkpoint per layer"),
                        ("sqrt", "grad, sqrt(L) segments"), ("jvp", "jvp"), ("f", "f")):
        ax.plot(depth, a[f"remat/{name}/seconds"] * 1e3, "o-", label=label)
    ax.set(xscale="log", yscale="log", xlabel="depth L", ylabel="ms (min over repeats)", title="and what it costs in time")
    ax.legend()
    for ax in axes[0]:
        ax.set_xticks(depth, [str(int(d)) for d in depth], minor=False)
        ax.set_xticks([], minor=True)
    plots.save(fig, directory, "remat_memory_time", **{k: v for k, v in a.items() if k.startswith("remat/")})


CLAIMS = [
    Claim("grad/f <= 5 in time, every model (largest ratio)", "<= 5 (about 3 typical)",
          lambda r: r.scalars["grad/max_time_ratio"], lambda v: v <= 5.0, fmt="{:.2f}"),
    Claim("grad/f <= 5 in XLA FLOPs, every model (largest ratio)", "<= 5 (about 3 typical)",
          lambda r: r.scalars["grad/max_flop_ratio"], lambda v: v <= 5.0, fmt="{:.2f}"),
    Claim("reverse-mode memory without remat grows linearly in L (log-log slope)", "1",
          lambda r: r.scalars["remat/none/memory_slope"], lambda v: 0.8 <= v <= 1.2, fmt="{:.3f}"),
    Claim("sqrt(L)-segment checkpointing memory grows as sqrt(L) (log-log slope)", "0.5",
          lambda r: r.scalars["remat/sqrt/memory_slope"], lambda v: 0.3 <= v <= 0.7, fmt="{:.3f}"),
    Claim("sqrt(L) checkpointing costs bounded extra time (grad time over no-remat grad, deepest)",
          "~4/3 (one extra forward)", lambda r: r.scalars["remat/sqrt/time_over_none"], lambda v: v <= 2.0,
          fmt="{:.2f}"),
    Claim("jvp memory is flat in L (log-log slope)", "0",
          lambda r: r.scalars["remat/jvp/memory_slope"], lambda v: abs(v) <= 0.1, fmt="{:.3f}"),
]


if __name__ == "__main__":
    main(NAME)
