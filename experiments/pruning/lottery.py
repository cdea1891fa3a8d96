"""Lottery tickets by iterative magnitude pruning, against random reinit and random masks,
and the linear mode connectivity of the dense network against the rewind step.

    python run.py prune-lottery --preset quick                     # MLP on MNIST-1D, 50% a round
    python run.py prune-lottery --preset frankle                   # 20% a round, output layer 10%
    python run.py prune-lottery --preset large                     # the same, GPU-sized
    python run.py prune-lottery --preset quick --rewind-step 100   # late rewinding
    python run.py prune-lottery --preset paper --data-dir DATA     # small CNN, CIFAR-10

Frankle & Carbin (2019): train, prune the smallest-magnitude surviving weights
(20% of them per round, the output layer at half that rate), rewind the
survivors to their original init and repeat; the resulting sparse "winning
ticket" trains to higher test accuracy than the same mask on a random reinit,
and than a random mask, at high sparsity. Liu et al. (2019, Sec. 6): that
advantage is an artefact of a small learning rate; at the (larger) best
learning rate the winning ticket is no better than a random reinit.

Frankle, Dziugaite, Roy & Carbin (2020): train two copies of the network from
the same rewind step k with different data orders and walk the straight line
between the two results; the test-error barrier on that line falls as k grows,
and IMP finds tickets exactly when the network is stable (barrier within 2%).
Small nets (LeNet on MNIST) are stable at k = 0.

Here each round prunes `rate` of the surviving weights (`output_rate` for the
output layer); one IMP chain per learning rate; every round trains, for every
seed, the ticket (mask on the rewind point), the random reinit (same mask, fresh
init) and a random mask with the ticket's layer-wise sparsities on the rewind
point, all in one vmapped program with the masks in the optimizer state. The lr
schedule is the dense model's (x0.1 at 50% and 75% of the round). The dense run
is split at every rewind step (`rewind_step`, `lmc_rewind_steps`); each later
fit continues the previous one's optimizer state and batch order exactly, so
the split changes no number. The chains and the copies are independent and
run two at a time (threads); every round of every chain shares one compiled
program for its start (masks from traced prune counts) and one for training.
"""

import functools
from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import plots, stats
from common.config import (require_at_least_one, require_in_range, require_non_negative,
                           require_numbers_representable)
from common.experiment import Claim, Control, DataUse, Results, above, at_most, below
from common.models import CNN, MLP
from common.nn import accuracy as accuracy_of
from common.parallel import map_independent
from common.train import (Loop, classifier_evaluation, epoch_batches, fit, fold_in_each, seed_keys,
                          supervised_step)
from experiments.api import main
from research.pruning.connectivity import STABLE, barrier, path_values
from research.pruning.lottery import (
    imp_sparsities,
    imp_step,
    layer_rates,
    layer_sparsities_after,
    random_pruning,
    random_reinit,
)
from research.pruning.masks import is_prunable, pruned_counts, sparsity
from research.pruning.protocol import (continue_init, continued_members, initial_states, protocol_optimizer,
                                      run_init, run_members)

NAME = "prune-lottery"
STUDY = "pruning"
PAPER = ("Frankle & Carbin 2019 (lottery tickets); Liu et al. 2019, Sec. 6; "
         "Frankle et al. 2020 (linear mode connectivity)")
REPRODUCES = ("test accuracy vs sparsity of IMP winning tickets, random reinit and random masks, "
              "at a small and a large learning rate; the error barrier between two copies vs the rewind step")
# Measured (quick, cold cache, /usr/bin/time): 73 s wall / 48 s user CPU on the 2-core CPU at load 8
# (other sessions running); 99 compiled programs.

VARIANTS = ("ticket", "random reinit", "random mask")
LRS = ("small_lr", "large_lr")
MATCH_MARGIN = 0.01  # "no better than reinit": the interval's high end at most +0.01


@dataclass(frozen=True)
class Config:
    """Iterative magnitude pruning with rewinding; controls at two learning rates; mode connectivity."""

    seeds: int = 5
    """Independent seeds, every one in the same vmapped program."""
    dataset: Literal["mnist1d", "cifar10"] = "mnist1d"
    """The data set: MNIST-1D comes with the install, the MNIST subset with the mnist-subset extra; MNIST, Fashion-MNIST and CIFAR-10 are read from --data-dir."""
    model: Literal["mlp", "cnn"] = "mlp"
    mlp_widths: tuple[int, ...] = (100, 100)
    cnn_channels: tuple[int, ...] = (32, 32, 32)
    cnn_kernel: int = 5
    steps: int = 600
    """Training steps of every round."""
    batch_size: int = 100
    """Examples per minibatch."""
    optimizer: Literal["sgd", "adam"] = "adam"
    learning_rates: tuple[float, float] = (1e-3, 1e-2)
    """(small, large) peak learning rates: one IMP chain each (Liu et al. Sec. 6)."""
    weight_decay: float = 0.0
    rate: float = 0.5
    """Fraction of the surviving weights pruned per round (Frankle & Carbin: 0.2)."""
    output_rate: float | None = None
    """Per-round rate of the output layer (None: `rate`; Frankle & Carbin: rate / 2; layer scope)."""
    rounds: int = 5
    """Pruning rounds: the hidden layers' last sparsity is 1 - (1 - rate)^rounds."""
    scope: Literal["layer", "global"] = "layer"
    rewind_step: int = 0
    """Rewind point of the ticket and the random mask: 0 = the original init (Frankle & Carbin
    2019); k > 0 = the dense run's weights after k steps (late rewinding, Frankle et al. 2020;
    here every round then trains the full `steps` with its schedule from the start)."""
    high_sparsity: float = 0.85
    """Claims average the rounds at or above this (overall) sparsity."""
    lmc_rewind_steps: tuple[int, ...] = (0, 100, 200, 300)
    """Rewind steps at which two copies of the dense network are trained with different data orders."""
    lmc_points: int = 11
    """Points on the line between the two copies (both ends included)."""
    chunk: int = 100
    """Steps per compiled lax.scan (the host sees metrics and may checkpoint once per chunk)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_at_least_one(self, ("seeds", "steps", "batch_size", "rounds", "chunk", "cnn_kernel", "mlp_widths",
                                    "cnn_channels"))
        require_in_range(self, ("rate",), 0.0, 1.0, open_low=True, open_high=True)
        require_in_range(self, ("high_sparsity",), 0.0, 1.0)
        require_non_negative(self, ("weight_decay",))
        if self.output_rate is not None:
            require_in_range(self, ("output_rate",), 0.0, 1.0, open_low=True, open_high=True)
            if self.scope != "layer":
                raise ValueError("output_rate needs scope 'layer' (per-layer rates)")
        small, large = self.learning_rates
        if not 0.0 < small < large:
            raise ValueError("learning_rates must be (small, large) with 0 < small < large")
        for k in (self.rewind_step, *self.lmc_rewind_steps):
            if k < 0 or k >= self.steps or k % self.chunk:
                raise ValueError(f"rewind steps must be multiples of chunk ({self.chunk}) in [0, steps) "
                                 f"(rewind_step or lmc_rewind_steps got {k})")
        if len(set(self.lmc_rewind_steps)) < 2:
            raise ValueError("lmc_rewind_steps needs at least two different steps")
        if self.lmc_points < 3:
            raise ValueError(f"lmc_points must be at least 3 (got {self.lmc_points})")
        if self.steps % self.chunk:
            raise ValueError(f"steps ({self.steps}) must be a multiple of chunk ({self.chunk})")
        if max(imp_sparsities(self.rate, self.rounds)) < self.high_sparsity:
            raise ValueError("no round reaches high_sparsity: raise rounds or rate")

    def unused_fields(self) -> dict[str, str]:
        if self.model == "mlp":
            return {f: "--model mlp builds no CNN" for f in ("cnn_channels", "cnn_kernel")}
        return {"mlp_widths": "--model cnn builds no MLP"}

    def data_use(self) -> DataUse:
        return DataUse(self.dataset, {"batch_size": self.batch_size})


PRESETS = {
    "quick": Config(),
    # Frankle & Carbin's schedule: 20% of the hidden weights a round, 10% of the output layer's.
    "frankle": Config(rate=0.2, output_rate=0.1, rounds=9, high_sparsity=0.8),
    # MNIST-1D at GPU size: LeNet-300-100 widths, 10 seeds, to 99.2% sparsity.
    "large": Config(seeds=10, mlp_widths=(300, 100), steps=3000, rounds=7, chunk=250,
                    lmc_rewind_steps=(0, 250, 500, 1000)),
    "paper": Config(dataset="cifar10", model="cnn", cnn_channels=(64, 128, 256), cnn_kernel=3,
                    steps=4000, batch_size=128, optimizer="sgd", learning_rates=(0.01, 0.1),
                    weight_decay=1e-4, rate=0.2, output_rate=0.1, rounds=9, high_sparsity=0.8, chunk=200,
                    lmc_rewind_steps=(0, 200, 400, 800)),
}


@functools.lru_cache(maxsize=None)
def batched(fn):
    """jit(vmap(fn)): one compile, where an eager vmap compiles every primitive on its own; one
    jitted function per `fn`, so calling it again with same-shaped inputs compiles nothing."""
    return jax.jit(jax.vmap(fn))


def host(tree):
    """Host (numpy) copies: the inputs of a jitted function keep one sharding whatever
    produced them, so it compiles once (device arrays and numpy arrays compile apart)."""
    return jax.tree.map(np.asarray, tree)


def make_model(config: Config, num_classes: int):
    if config.model == "mlp":
        return MLP(config.mlp_widths, num_classes)
    return CNN(config.cnn_channels, num_classes, kernel=config.cnn_kernel, stride=2,
               padding=config.cnn_kernel // 2)


# ---------------------------------------------------------------- records between stages

class Dense(NamedTuple):
    """The dense run, every (lr, seed) run lr-major, and its states at every rewind step."""

    keys: jax.Array  # (runs,)
    states: dict  # rewind step -> TrainState (runs leading); 0 is the initial state
    final: dict  # final params
    accuracy: np.ndarray  # (lr, seed)


class Lottery(NamedTuple):
    sparsities: np.ndarray  # (rounds + 1,), overall, round 0 dense
    accuracy: np.ndarray  # (lr, variant, round, seed)


class Connectivity(NamedTuple):
    rewind_steps: np.ndarray  # (K,)
    alphas: np.ndarray  # (P,)
    error_KxLxPxS: np.ndarray  # test error on the line, (rewind, lr, points, seeds)
    barrier_LxKxS: np.ndarray
    independent_LxS: np.ndarray  # barrier between two independently trained dense nets


class Runner:
    """One model's fits: a shared step and evaluation, runs keyed (lr, seed) lr-major."""

    def __init__(self, config: Config, data, model, optimizer, session):
        self.config, self.data, self.model, self.optimizer, self.session = config, data, model, optimizer, session
        self.step, self.evaluate = supervised_step(model, optimizer), classifier_evaluation(model)
        self.seeds = seed_keys(config.seed, config.seeds)
        n_lr = len(config.learning_rates)
        self.chain_keys = jnp.concatenate([fold_in_each(self.seeds, 100 + i)
                                           for i in range(n_lr)])
        self.lrs = np.repeat(config.learning_rates, config.seeds)

    def rows(self, lr_index: int) -> slice:
        """The runs of one learning rate in an lr-major axis."""
        return slice(lr_index * self.config.seeds, (lr_index + 1) * self.config.seeds)

    def variant_keys(self, count: int, lr_index: int | None = None):
        """Keys of `count` variants, each over every (lr, seed) run (or the runs of one lr)."""
        base = self.chain_keys if lr_index is None else self.chain_keys[self.rows(lr_index)]
        return jnp.concatenate([fold_in_each(base, t) for t in range(count)])

    def fit(self, name, init_fn, members, keys, steps):
        """Every run (a member with its own key) in one program."""
        c = self.config
        return fit(name, init=init_fn, step=self.step, sample_batch=epoch_batches(c.batch_size),
                   data=(self.data.x_train, self.data.y_train), loop=Loop(steps=steps, chunk=c.chunk),
                   keys=keys[:, None], members=members, evaluate=self.evaluate,
                   eval_data=(self.data.x_test, self.data.y_test), session=self.session)

    def fresh_members(self, variants, lrs):
        """Run i of variant t starts from variants[t]'s (params, masks) with a fresh schedule at lrs[i]."""
        cat = lambda *xs: np.concatenate([np.asarray(x) for x in xs])  # noqa: E731 (host: no compile)
        runs = len(lrs) * len(variants)
        return run_members(jax.tree.map(cat, *[p for p, _ in variants]), jax.tree.map(cat, *[m for _, m in variants]),
                           np.tile(lrs, len(variants)), np.full(runs, self.config.steps), np.ones(runs, bool))

    def train(self, name, variants, lr_index: int):
        """The variants at one learning rate: final test accuracy (variant, seed) and the first
        variant's final params."""
        keys = self.variant_keys(len(variants), lr_index)
        members = self.fresh_members(variants, self.lrs[self.rows(lr_index)])
        out = self.fit(name, run_init(self.optimizer), members, keys, self.config.steps)
        n = self.config.seeds
        acc = out.curve("eval/accuracy")[-1].reshape(len(variants), n)
        return acc, jax.tree.map(lambda a: np.asarray(a)[:n], out.state.params)


# ---------------------------------------------------------------- stage 1: the dense run

class DenseStart(NamedTuple):
    """Where the dense run starts: its keys (runs,), member inputs and initial states."""

    keys: jax.Array
    members: object
    state: object


def dense_start(runner: Runner, init) -> DenseStart:
    keys = runner.variant_keys(1)
    members = runner.fresh_members([(init, jax.tree.map(lambda a: np.ones(a.shape, bool), init))], runner.lrs)
    return DenseStart(keys, members, initial_states(run_init(runner.optimizer), keys, members))


def train_dense(runner: Runner, start: DenseStart) -> Dense:
    """The dense run, split at every rewind step (the split changes no number)."""
    c = runner.config
    states = {0: start.state}
    ends = sorted({c.rewind_step, *c.lmc_rewind_steps} - {0}) + [c.steps]
    begin = 0
    for end in ends:
        name = "dense" if end == c.steps else f"dense-to-{end}"
        if begin == 0:
            out = runner.fit(name, run_init(runner.optimizer), start.members, start.keys, end)
        else:
            out = runner.fit(name, continue_init, continued_members(states[begin]), start.keys, end - begin)
        states[end], begin = out.state, end
    accuracy = out.curve("eval/accuracy")[-1].reshape(len(c.learning_rates), c.seeds)
    return Dense(start.keys, states, out.state.params, accuracy)


# ---------------------------------------------------------------- stage 2: IMP and its controls

class RoundStart(NamedTuple):
    """What one IMP round trains (seeds leading): the ticket and its two controls."""

    masks: dict
    ticket: dict
    reinit: dict
    random_masks: dict
    random_params: dict
    sparsity: jax.Array  # overall sparsity of the new masks, per seed


def round_counts(config: Config, example, round_: int) -> np.ndarray:
    """Weights pruned after `round_` rounds: per layer (layer scope) or in all (global)."""
    if config.output_rate is None:
        return np.array(pruned_counts(example, imp_sparsities(config.rate, round_)[-1], config.scope))
    n_layers = sum(is_prunable(w) for w in jax.tree.leaves(example))
    return np.array(pruned_counts(example, layer_sparsities_after(
        layer_rates(config.rate, config.output_rate, n_layers), round_), "layer"))


@functools.lru_cache(maxsize=None)
def round_program(model, scope):
    """jit(vmap over seeds) of a round's start: next masks, ticket, random reinit and random
    mask. The counts, keys and example input are traced, so every round and chain shares
    one program."""

    def start(trained, rewind, masks, counts, init_key, shuffle_key, x1):
        new_masks, ticket = imp_step(trained, rewind, masks, counts, scope)
        reinit = random_reinit(model.init_variables(init_key, x1)[0], new_masks)
        random_m, random_p = random_pruning(shuffle_key, rewind, new_masks)
        return RoundStart(new_masks, ticket, reinit, random_m, random_p, sparsity(new_masks))

    return jax.jit(jax.vmap(start, in_axes=(0, 0, 0, None, 0, 0, None)))


def compile_round(runner: Runner, example) -> None:
    """Compile the rounds' program while the dense run trains: it needs only shapes
    (`example`: params with one seed axis, as host arrays)."""
    masks = jax.tree.map(lambda a: np.ones(a.shape, bool), example)
    counts = round_counts(runner.config, jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype), example), 1)
    keys = fold_in_each(runner.seeds, 0)
    round_program(runner.model, runner.config.scope).lower(example, example, masks, counts, keys, keys,
                                                          runner.data.x_train[:1]).compile()


def imp_chain(runner: Runner, dense: Dense, lr_index: int) -> Lottery:
    """Every round of the IMP chain of one learning rate: accuracy (variant, round, seed)."""
    c, rows = runner.config, runner.rows(lr_index)
    one_lr = lambda tree: jax.tree.map(lambda a: np.asarray(a)[rows], tree)  # noqa: E731 (host: no compile)
    rewind, trained = one_lr(dense.states[c.rewind_step].params), one_lr(dense.final)
    masks = jax.tree.map(lambda a: np.ones(a.shape, bool), trained)
    example = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype), trained)
    start = round_program(runner.model, c.scope)
    chain_keys = runner.chain_keys[rows]
    sparsities = [0.0]
    accuracy = np.zeros((len(VARIANTS), c.rounds + 1, c.seeds))
    accuracy[:, 0] = dense.accuracy[lr_index]
    for r in range(1, c.rounds + 1):
        new = start(trained, rewind, masks, round_counts(c, example, r), fold_in_each(runner.seeds, 1000 + r),
                    fold_in_each(chain_keys, 2000 + r), runner.data.x_train[:1])
        masks = host(new.masks)  # host arrays every round: one input sharding, one compile
        acc, trained = runner.train(f"{LRS[lr_index]}/round{r}", [(new.ticket, masks), (new.reinit, masks),
                                                                  (new.random_params, new.random_masks)], lr_index)
        accuracy[:, r] = acc
        sparsities.append(float(np.asarray(new.sparsity)[0]))
    return Lottery(np.array(sparsities), accuracy[None])


# ---------------------------------------------------------------- stage 3: linear mode connectivity

def train_copy(runner: Runner, keys, state, index: int, k: int):
    """Copy B of rewind step k (the index-th): `state`, the dense run's at k (its keys `keys`),
    with another data order, trained to the end of the schedule (copy A is the dense run
    itself). Final params, runs leading."""
    copy_keys = fold_in_each(keys, 7000 + index)
    return runner.fit(f"lmc-copy-{k}", continue_init, continued_members(state.replace(key=copy_keys)), copy_keys,
                      runner.config.steps - k).state.params


def mode_connectivity(runner: Runner, dense: Dense, copies_b: list) -> Connectivity:
    """Test error along the line A -> B for every rewind step."""
    c = runner.config
    ks = sorted(set(c.lmc_rewind_steps))
    x, y = jnp.asarray(runner.data.x_test), jnp.asarray(runner.data.y_test)
    alphas = jnp.linspace(0.0, 1.0, c.lmc_points)

    def error(params):
        return 1.0 - accuracy_of(runner.model.apply(params, {}, x)[0], y)

    @jax.jit
    def line_errors(a, b):  # runs leading -> (runs, P), one run at a time (bounded memory)
        return jax.lax.map(lambda ab: path_values(error, ab[0], ab[1], alphas), (a, b))

    n_lr, n = len(c.learning_rates), c.seeds
    final = host(dense.final)
    errors = np.stack([np.asarray(line_errors(final, host(b))) for b in copies_b])  # (K, runs, P)
    errors = errors.reshape(len(ks), n_lr, n, -1).transpose(0, 1, 3, 2)  # (K, L, P, S)
    other_seed = jax.tree.map(lambda a: np.roll(np.asarray(a).reshape(n_lr, n, *a.shape[1:]), 1, axis=1)
                              .reshape(a.shape), final)
    independent = np.asarray(line_errors(final, other_seed)).reshape(n_lr, n, -1)
    return Connectivity(np.array(ks), np.asarray(alphas), errors,
                        barrier(errors.transpose(1, 0, 3, 2)),  # (L, K, S)
                        barrier(independent))


# ---------------------------------------------------------------- the experiment

def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset)
    model = make_model(config, data.num_classes)
    runner = Runner(config, data, model, protocol_optimizer(config.optimizer, config.weight_decay), session)
    init_one = host(batched(lambda k: model.init_variables(k, data.x_train[:1])[0])(runner.seeds))
    n_lr = len(config.learning_rates)
    init = jax.tree.map(lambda a: np.concatenate([a] * n_lr), init_one)  # same inits per lr
    start = dense_start(runner, init)
    ks = sorted(set(config.lmc_rewind_steps))

    def beside_dense():  # on the other core while the dense run trains
        compile_round(runner, init_one)
        return train_copy(runner, start.keys, start.state, 0, 0) if ks[0] == 0 else None

    dense, first_copy = map_independent(lambda job: job(), [functools.partial(train_dense, runner, start),
                                                            beside_dense])
    # The IMP chains and the other copies are independent: side by side, in this order (a copy
    # runs beside the first chain while that one compiles the chain's programs).
    chain_jobs = {("chain", i): functools.partial(imp_chain, runner, dense, i) for i in range(n_lr)}
    copy_jobs = {("copy", i): functools.partial(train_copy, runner, start.keys, dense.states[k], i, k)
                 for i, k in enumerate(ks) if k > 0}
    jobs = chain_jobs | copy_jobs
    order = [*chain_jobs][:1] + [*copy_jobs][:1] + [*chain_jobs][1:] + [*copy_jobs][1:]
    done = dict(zip(order, map_independent(lambda job: jobs[job](), order)))
    chains = [done["chain", i] for i in range(n_lr)]
    copies = [first_copy if k == 0 else done["copy", i] for i, k in enumerate(ks)]
    return _results(config, Lottery(chains[0].sparsities, np.concatenate([c.accuracy for c in chains])),
                    mode_connectivity(runner, dense, copies))


def _results(config: Config, lottery: Lottery, lmc: Connectivity) -> Results:
    results = Results()
    sparsities, accuracy = lottery.sparsities, lottery.accuracy
    results.arrays["sparsity"] = sparsities
    results.arrays["high"] = sparsities >= config.high_sparsity
    results.arrays["learning_rates"] = np.array(config.learning_rates)
    rows = []
    for i, (tag, lr) in enumerate(zip(LRS, config.learning_rates)):
        for j, v in enumerate(VARIANTS):
            results.arrays[f"{tag}/{v}"] = accuracy[i, j]  # (points = sparsities, seeds)
        for k, s in enumerate(sparsities):
            row = {"lr": lr, "sparsity %": round(100 * s, 2)}
            for j, v in enumerate(VARIANTS):
                row[v] = float(np.mean(accuracy[i, j, k]))
                row[f"{v} std"] = float(np.std(accuracy[i, j, k]))
            rows.append(row)
        results.arrays[f"{tag}/lmc_barrier"] = lmc.barrier_LxKxS[i]  # (rewind steps, seeds)
        results.arrays[f"{tag}/lmc_error"] = lmc.error_KxLxPxS[:, i]  # (rewind, points, seeds)
        results.arrays[f"{tag}/independent_barrier"] = lmc.independent_LxS[i]
    results.arrays["lmc_rewind_steps"] = lmc.rewind_steps
    results.arrays["lmc_alphas"] = lmc.alphas
    results.tables["Test accuracy (mean over seeds) by sparsity"] = rows
    results.tables["Error barrier between two copies (mean +- std over seeds)"] = [
        {"lr": lr, "rewind step": int(k), "barrier": float(np.mean(lmc.barrier_LxKxS[i, j])),
         "std": float(np.std(lmc.barrier_LxKxS[i, j])),
         "endpoint error": float(np.mean(lmc.error_KxLxPxS[j, i, [0, -1]]))}
        for i, lr in enumerate(config.learning_rates) for j, k in enumerate(lmc.rewind_steps)
    ] + [{"lr": lr, "rewind step": "independent inits", "barrier": float(np.mean(lmc.independent_LxS[i])),
          "std": float(np.std(lmc.independent_LxS[i])), "endpoint error": float("nan")}
         for i, lr in enumerate(config.learning_rates)]
    results.notes += _notes(config, results)
    return results


def high_gap(r: Results, lr: str, other: str) -> np.ndarray:
    """Per seed: ticket minus `other`, averaged over the high-sparsity rounds."""
    high = np.asarray(r.arrays["high"], bool)
    return (r.arrays[f"{lr}/ticket"][high] - r.arrays[f"{lr}/{other}"][high]).mean(axis=0)


def _notes(config: Config, r: Results) -> list[str]:
    rewind = (f"the dense run's weights after {config.rewind_step} steps (late rewinding)"
              if config.rewind_step else "the original init")
    out = [f"Tickets and random masks are rewound to {rewind}; each round prunes {config.rate:.0%} of the "
           f"surviving weights ({'output layer ' + format(config.output_rate, '.0%') if config.output_rate else 'every layer alike'}).",
           f"Gaps: per-seed differences averaged over rounds with sparsity >= {config.high_sparsity:.0%}, "
           "then a t interval over seeds."]
    for tag, lr in zip(LRS, config.learning_rates):
        reinit, mask = stats.mean(high_gap(r, tag, "random reinit")), stats.mean(high_gap(r, tag, "random mask"))
        out.append(f"lr {lr:g}: ticket - reinit {reinit.value:+.3f} [{reinit.interval[0]:+.3f}, "
                   f"{reinit.interval[1]:+.3f}], ticket - random mask {mask.value:+.3f} "
                   f"[{mask.interval[0]:+.3f}, {mask.interval[1]:+.3f}].")
        b = r.arrays[f"{tag}/lmc_barrier"].mean(axis=-1)
        by_step = ", ".join(f"step {int(k)}: {v:.4f}" for k, v in zip(r.arrays["lmc_rewind_steps"], b))
        out.append(f"lr {lr:g}: error barrier by rewind step ({by_step}); "
                   f"independent inits {np.mean(r.arrays[f'{tag}/independent_barrier']):.3f}; stable "
                   f"(Frankle et al.: barrier <= {STABLE:.0%}) at step 0: {bool(b[0] <= STABLE)}.")
    large = stats.mean(high_gap(r, "large_lr", "random reinit"))
    if large.interval[0] > MATCH_MARGIN:
        b0 = float(np.mean(r.arrays["large_lr/lmc_barrier"][0]))
        out.append(f"Liu et al.'s Sec. 6 condition did not hold: at lr {config.learning_rates[1]:g} the ticket is "
                   f"{large.value:+.3f} ahead of reinit (interval above +{MATCH_MARGIN}). Instability does not "
                   f"explain it: the dense net's barrier at step 0 is {b0:.3f} at that lr, above Frankle et al.'s "
                   f"{STABLE:.0%}, yet the ticket rewound to step 0 still wins (Frankle et al. find IMP with rewinding to init fails in networks unstable at init).")
    return out


def figures(results: Results, directory) -> None:
    fig, axes = plots.new_figure(ncols=2, nrows=2, width=4.6)
    remaining = 100 * (1 - results.arrays["sparsity"])
    lrs = results.arrays["learning_rates"]
    for ax, tag, lr in zip(axes[0], LRS, lrs):
        for v in VARIANTS:
            plots.seed_band(ax, remaining, results.arrays[f"{tag}/{v}"], v, marker="o", ms=3)
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set(xlabel="weights remaining (%)", ylabel="test accuracy", title=f"IMP, lr {lr:g}")
        ax.legend()
    for ax, tag, lr in zip(axes[1], LRS, lrs):
        for k, err in zip(results.arrays["lmc_rewind_steps"], results.arrays[f"{tag}/lmc_error"]):
            plots.seed_band(ax, results.arrays["lmc_alphas"], err, f"rewind step {int(k)}")
        ax.set(xlabel="alpha (copy A -> copy B)", ylabel="test error", title=f"two copies, lr {lr:g}")
        ax.legend(fontsize=7, title=f"independent inits: barrier "
                  f"{np.mean(results.arrays[f'{tag}/independent_barrier']):.2f}", title_fontsize=7)
    plots.save(fig, directory, "accuracy_vs_sparsity", **results.arrays)


# ---------------------------------------------------------------- claims

def gap(lr: str, other: str):
    return lambda r: stats.mean(high_gap(r, lr, other))


def gap_shrink(r: Results) -> stats.Measurement:
    """Per seed (the two lr chains share each seed's init): small-lr edge minus large-lr edge."""
    return stats.paired_difference(high_gap(r, "small_lr", "random reinit"), high_gap(r, "large_lr", "random reinit"))


def barrier_fall(r: Results) -> stats.Measurement:
    """Per seed: barrier at the first rewind step minus at the last."""
    b = r.arrays["large_lr/lmc_barrier"]
    return stats.paired_difference(b[0], b[-1])


def stable_at_init(r: Results) -> stats.Measurement:
    return stats.mean(r.arrays["large_lr/lmc_barrier"][0])


def independent_barrier(r: Results) -> stats.Measurement:
    return stats.mean(r.arrays["large_lr/independent_barrier"])


def synthetic(edge: dict[str, float] | None = None, barriers=(0.0, 0.0), mask_offset: float = -0.01,
              seeds: int = 5) -> Results:
    """Accuracy 0.6 for random reinit, 0.6 + mask_offset for the random mask and 0.6 + edge[lr] for
    the ticket at two high-sparsity rounds; dense-net barriers (first and last rewind step); a small
    seed pattern throughout."""
    edge = edge or {}
    noise = 0.004 * np.linspace(-1, 1, seeds)
    arrays = {"sparsity": np.array([0.0, 0.9, 0.95]), "high": np.array([False, True, True])}
    for tag in LRS:
        base = np.tile(0.6 + noise, (3, 1))
        arrays[f"{tag}/random reinit"] = base
        arrays[f"{tag}/random mask"] = base + mask_offset
        arrays[f"{tag}/ticket"] = base + edge.get(tag, 0.0) + noise[::-1]
        arrays[f"{tag}/lmc_barrier"] = np.array([barriers[0] + noise, barriers[1] + noise / 2])
        arrays[f"{tag}/independent_barrier"] = 0.3 + noise
    return Results(arrays=arrays)


CLAIMS = [
    Claim(
        statement="small lr, high sparsity: the rewound ticket beats random reinit (per-seed gap over the "
        "high-sparsity rounds, t interval)",
        paper="ticket > reinit",
        measure=gap("small_lr", "random reinit"),
        region=above(0.0),
        control=Control(name="the ticket against itself (A/A)", results=lambda: synthetic()),
        passing=lambda: synthetic({"small_lr": 0.05}),
        fmt="{:+.3f}",
    ),
    Claim(
        statement="small lr, high sparsity: the ticket beats a random mask",
        paper="ticket > random",
        measure=gap("small_lr", "random mask"),
        region=above(0.0),
        control=Control(name="the random mask against itself (A/A)", results=lambda: synthetic(mask_offset=0.0)),
        passing=lambda: synthetic({"small_lr": 0.05}),
        fmt="{:+.3f}",
    ),
    Claim(
        statement="Liu et al. Sec. 6: the ticket's edge over reinit shrinks at the larger lr (paired over seeds)",
        paper="shrinks",
        measure=gap_shrink,
        region=above(0.0),
        control=Control(
            name="the same lr twice (A/A)", results=lambda: synthetic({"small_lr": 0.05, "large_lr": 0.05})
        ),
        passing=lambda: synthetic({"small_lr": 0.05, "large_lr": 0.0}),
        fmt="{:+.3f}",
    ),
    Claim(
        statement=f"Liu et al. Sec. 6: at the larger lr the ticket is no better than reinit (interval's high "
        f"end <= +{MATCH_MARGIN})",
        paper="no better",
        measure=gap("large_lr", "random reinit"),
        region=at_most(MATCH_MARGIN),
        control=Control(
            name="a ticket 5 points ahead (the small-lr effect)", results=lambda: synthetic({"large_lr": 0.05})
        ),
        passing=lambda: synthetic({"large_lr": -0.01}),
        fmt="{:+.3f}",
    ),
    Claim(
        statement="Frankle et al. 2020: the error barrier between two copies falls as the rewind step grows "
        "(first minus last rewind step, larger lr, paired over seeds)",
        paper="falls to ~0 by early training",
        measure=barrier_fall,
        region=above(0.0),
        control=Control(name="the same rewind step twice (A/A)", results=lambda: synthetic(barriers=(0.05, 0.05))),
        passing=lambda: synthetic(barriers=(0.1, 0.0)),
        fmt="{:+.4f}",
    ),
    Claim(
        statement=f"Frankle et al. 2020: the small dense net is stable at init (barrier at step 0 below "
        f"{STABLE:.0%}, larger lr)",
        paper="LeNet on MNIST: stable at step 0",
        measure=stable_at_init,
        region=below(STABLE),
        control=Control(
            name="two independently initialised networks", results=lambda: synthetic(barriers=(0.3, 0.3))
        ),
        passing=lambda: synthetic(barriers=(0.005, 0.0)),
        baseline=independent_barrier,
        fmt="{:.4f}",
    ),
]


if __name__ == "__main__":
    main(NAME)
