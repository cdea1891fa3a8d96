"""The cheap gradient principle measured on three model families (Griewank & Walther, "Evaluating
Derivatives"): f, jvp, vjp and grad of a softmax cross-entropy loss with respect to the parameters of a tanh
MLP, a 1-D CNN and a scanned Elman RNN, each compiled once; operations and memory traffic counted on the
jaxpr with every scan iteration counted (`research.autodiff.flops`), XLA's figures (a loop body once), and
time in interleaved rounds with an A/A calibration. Inputs are MNIST-1D-like random sequences."""

import math
from collections.abc import Callable, Iterator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import bench
from common.bench import Timing
from common.models import CNN, MLP
from common.nn import softmax_cross_entropy
from research.autodiff import args as A
from research.autodiff.costs import (
    Compiled,
    compile_program,
    derivative_transforms,
    time_interleaved,
)
from research.autodiff.flops import OpCount

NUM_CLASSES = 10
MAX_BATCH_FACTOR = 64


class Model(NamedTuple):
    family: str  # "MLP", "CNN", "RNN"
    size: int  # width, channels or hidden size
    loss: Callable  # loss(params, x, y)
    init: Callable  # init(rng, x) -> params, LeCun-scaled normal draws by numpy (costs ignore the values)

    @property
    def key(self) -> str:
        return f"{self.family}{self.size}"

    @property
    def label(self) -> str:
        return f"{self.family} {self.size}"


def init_rnn(rng: np.random.Generator, hidden: int) -> dict:
    """Elman RNN h_t = tanh(W h_{t-1} + u x_t + b), logits = V h_T (LeCun-scaled)."""
    return A.lecun_like(rng, {"w": jax.ShapeDtypeStruct((hidden, hidden), jnp.float32),
                              "b": jax.ShapeDtypeStruct((hidden,), jnp.float32),
                              "v": jax.ShapeDtypeStruct((hidden, NUM_CLASSES), jnp.float32)}) | {
        "u": A.normal_like(rng, jax.ShapeDtypeStruct((hidden,), jnp.float32))}


def rnn_loss(params, x, y):
    def step(h, x_t):  # x_t: (batch,)
        return jnp.tanh(h @ params["w"] + x_t[:, None] * params["u"] + params["b"]), None

    h, _ = jax.lax.scan(step, jnp.zeros((x.shape[0], params["w"].shape[0])), x.T)
    return softmax_cross_entropy(h @ params["v"], y)


def _flax_like(family: str, size: int, model) -> Model:
    def loss(params, x, y):
        return softmax_cross_entropy(model.apply(params, {}, x, train=False)[0], y)

    return Model(family, size, loss,
                 lambda rng, x: A.lecun_like(rng, jax.eval_shape(model.init_variables, jax.random.key(0), x)[0]))


MODEL_FAMILIES: dict[str, Callable[[int], Model]] = {
    "MLP": lambda width: _flax_like("MLP", width, MLP((width,) * 4, NUM_CLASSES, activation="tanh", init="lecun")),
    "CNN": lambda channels: _flax_like("CNN", channels, CNN((channels,) * 3, NUM_CLASSES, kernel=5, stride=2,
                                                           padding=1)),
    "RNN": lambda hidden: Model("RNN", hidden, rnn_loss, lambda rng, x: init_rnn(rng, hidden)),
}


def models(sizes: dict[str, tuple[int, ...]]) -> Iterator[Model]:
    """family -> sizes: a 4-hidden-layer tanh MLP, a 3-layer 1-D CNN, a scanned tanh RNN."""
    for family, family_sizes in sizes.items():
        yield from (MODEL_FAMILIES[family](size) for size in family_sizes)


def batch_of(size: int, length: int, seed: int):
    """`size` random inputs of length `length` and labels, drawn by numpy."""
    rng = np.random.default_rng([seed, size])
    return (A.normal_like(rng, jax.ShapeDtypeStruct((size, length), jnp.float32)),
            jax.device_put(rng.integers(0, NUM_CLASSES, size).astype(np.int32)))


def timing_factor(f: Callable[[], object], min_seconds: float) -> int:
    """The power of two by which the batch grows so that f (a compiled call) takes >= min_seconds."""
    jax.block_until_ready(f())
    seconds = min(bench.time_callable(f, repeats=1, warmup=0) for _ in range(5))
    if seconds >= min_seconds:
        return 1
    return min(MAX_BATCH_FACTOR, 2 ** math.ceil(math.log2(min_seconds / seconds)))


class ModelCost(NamedTuple):
    """f, jvp, vjp and grad of one model at its timing batch."""

    batch: int
    parameters: int
    counts: dict[str, OpCount]  # loop-aware operations and traffic
    xla: dict[str, Timing]  # XLA's figures (a loop body once)
    rounds: bench.Rounds  # interleaved, A/A on f


def model_cost(model: Model, batch: int, length: int, seed: int, rounds: int, min_seconds: float) -> ModelCost:
    """Every figure from one compilation per program. f compiled at `batch` finds the timing batch (grown until
    a call of f takes >= min_seconds); it is kept when the batch needs no growth."""
    params = model.init(np.random.default_rng(seed), batch_of(batch, length, seed)[0])
    f = compile_program(model.loss, params, *batch_of(batch, length, seed))
    factor = timing_factor(f.run, min_seconds)
    transforms = derivative_transforms(model.loss, params, *batch_of(batch * factor, length, seed))
    programs: dict[str, Compiled] = {t.name: f if t.name == "f" and factor == 1 else compile_program(t.fn, *t.args)
                                     for t in transforms}
    _, timed = time_interleaved(programs, "f", rounds=rounds, seed=seed)
    return ModelCost(batch * factor, sum(int(np.size(p)) for p in jax.tree.leaves(params)),
                     {name: c.loop for name, c in programs.items()}, {name: c.figures for name, c in programs.items()},
                     timed)


class Ratios(NamedTuple):
    """A transform over f."""

    flop_ratio: float  # operations, loops counted
    traffic_ratio: float  # bytes every operation reads and writes, loops counted
    xla_flop_ratio: float  # XLA's cost analysis (a loop body once)
    xla_bytes_ratio: float


def ratios(cost: ModelCost, name: str) -> Ratios:
    count, f, xla, xla_f = cost.counts[name], cost.counts["f"], cost.xla[name], cost.xla["f"]
    return Ratios(count.flops / f.flops, count.bytes / f.bytes, xla.flops / xla_f.flops,
                  xla.bytes_accessed / xla_f.bytes_accessed)


def forward_mode_gradient(cost: ModelCost) -> tuple[float, float]:
    """Operations and traffic of the forward-mode gradient (one jvp per parameter) over f's."""
    return tuple(cost.parameters * getattr(cost.counts["jvp"], key) / getattr(cost.counts["f"], key)
                 for key in ("flops", "bytes"))


TABLE_TITLES = {
    "summary": "Cheap gradient: grad / f of each model in operations and memory traffic (loop-aware, the claims), "
               "XLA's bytes accessed (a loop body once) and time (median of per-round ratios, 95% interval)",
    "operations": "Operation counts and memory traffic of f, jvp, vjp and grad (loss w.r.t. parameters, at the "
                  "timing batch; every scan iteration counted; XLA's figures count a loop body once)",
    "time": "Time over f in interleaved rounds (median of per-round ratios, 95% bootstrap interval widened by "
            "the A/A rounds of f against itself)",
}


def table_rows(model: Model, cost: ModelCost) -> dict[str, list[dict]]:
    """The model's rows of each table of TABLE_TITLES."""
    tables = {"operations": [], "time": []}
    for name, count in cost.counts.items():
        r, xla = ratios(cost, name), cost.xla[name]
        tables["operations"].append({
            "model": model.label, "transform": name, "batch": cost.batch, "MFLOP (loops counted)": count.flops / 1e6,
            "FLOPs / f": r.flop_ratio, "matmul MFLOP": count.matmul / 1e6,
            "transcendentals (k)": count.transcendental / 1e3,
            "MB moved (loops counted, before fusion)": count.bytes / 1e6, "bytes / f": r.traffic_ratio,
            "XLA MFLOP (body once)": xla.flops / 1e6, "XLA FLOPs / f": r.xla_flop_ratio,
            "XLA MB accessed (after fusion, body once)": xla.bytes_accessed / 1e6, "XLA bytes / f": r.xla_bytes_ratio,
            "XLA temp MiB": xla.temp_bytes / 2**20})
        if name != "f":
            tables["time"].append({"model": model.label, "transform": name, "timing batch": cost.batch,
                                   "f ms (median)": float(np.median(cost.rounds.seconds["f"])) * 1e3,
                                   "time / f (95% interval)": f"{cost.rounds.ratio(name):.3g}",
                                   "FLOPs / f": r.flop_ratio, "bytes / f": r.traffic_ratio})
    grad = ratios(cost, "grad")
    tables["summary"] = [{"model": model.label, "operations": grad.flop_ratio, "memory traffic": grad.traffic_ratio,
                          "XLA bytes accessed (body once)": grad.xla_bytes_ratio,
                          "time (median)": cost.rounds.ratio("grad").value,
                          "time 95%": f"{cost.rounds.ratio('grad'):.2f}"}]
    return tables


def summary_notes(summary: list[dict]) -> list[str]:
    """What the summary table says, in two sentences of this run's numbers."""
    worst = max(summary, key=lambda r: r["time (median)"])
    spans = {column: f"{min(r[column] for r in summary):.2f} to {max(r[column] for r in summary):.2f}"
             for column in ("time (median)", "operations", "memory traffic")}
    apart = [r["model"] for r in summary if not 0.5 < r["XLA bytes accessed (body once)"] / r["memory traffic"] < 2]
    return [(f"grad/f in time ranges {spans['time (median)']} (worst: {worst['model']}, 95% {worst['time 95%']}); "
             f"in operations {spans['operations']}, in memory traffic {spans['memory traffic']}. The claims read "
             "operations and traffic; time, reported beside them, also carries scheduling, caches and a scan's "
             "per-step overhead."),
            ("XLA's bytes accessed (what crosses each fused kernel's boundary, a loop body once) are more than 2x "
             f"away from the traffic count for: {', '.join(apart) if apart else 'none'}; the claims do not read them.")]
