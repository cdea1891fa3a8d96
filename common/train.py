"""The one trainer: K steps per compiled `lax.scan`, seeds as a vmapped
leading axis, a host loop over chunks for logging, evaluation and checkpoints.

A study supplies
- `init(key) -> TrainState` for one seed (see `new_state`),
- `step(state, batch) -> (state, metrics)` for one seed, one step; `metrics`
  is a dict of scalars containing "loss" (see `supervised_step` and
  `apply_gradients`),
- `sample_batch(data, key, step) -> batch` (see `epoch_batches`),
- optionally `evaluate(state, eval_data) -> dict of scalars`, and
  `observe(states, eval_data) -> dict of (runs, ...) arrays`, on the host at the
  same points (for what cannot be jitted, e.g. scipy's ARPACK on the state).
`fit` runs them for every seed in one compiled program, and with `members`
(`common.members.Members`, a sweep) for every member x seed, `init(key,
inputs)` receiving the member's inputs. A run whose metrics turn non-finite
is stopped (its state frozen, `diverged_at` set to the step) while the others
go on. Runs that do not divide the device count are padded (dropped from the
results). The result is identical whether the run is
interrupted and resumed from a checkpoint or not (same chunks, same keys).
"""

import functools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from common import interrupts, parallel
from common.log import jsonable, progress
from common.members import Members
from common.nn import accuracy, softmax_cross_entropy

DATA_STREAM = 0x7FFFFFFF  # fold_in tag that separates data order from step noise


@flax.struct.dataclass
class TrainState:
    params: Any
    opt_state: Any
    model_state: Any
    step: jax.Array  # int32 scalar
    key: jax.Array  # typed PRNG key of this seed
    alive: jax.Array  # bool: False once a non-finite metric was seen
    diverged_at: jax.Array  # int32: the step where it died, -1 while alive
    member: Any = flax.struct.field(default_factory=dict)  # a sweep member's inputs that the step reads


def new_state(params, opt_state, key, model_state=None, member=None) -> TrainState:
    """A fresh state; `member` holds what a sweep member's step reads (e.g. a
    regularization weight, as `state.member["weight"]`); the trainer never changes it."""
    return TrainState(
        params=params, opt_state=opt_state, model_state={} if model_state is None else model_state,
        step=jnp.zeros((), jnp.int32), key=key, alive=jnp.array(True),
        diverged_at=jnp.array(-1, jnp.int32), member={} if member is None else member,
    )


def step_key(state: TrainState):
    """Fresh randomness for this step: fold_in(seed key, step)."""
    return jax.random.fold_in(state.key, state.step)


def seed_keys(seed: int, count: int):
    """Key of seed i is fold_in(key(seed), i): the same whatever `count` is."""
    return jax.vmap(lambda i: jax.random.fold_in(jax.random.key(seed), i))(jnp.arange(count))


@jax.jit
def fold_in_each(keys, data):
    """fold_in(k, data) for every key k of `keys`; `data` is traced, so one program serves
    every value (a Python constant in a lambda compiles a program per value)."""
    return jax.vmap(jax.random.fold_in, in_axes=(0, None))(keys, data)


class EpochBatches:
    """Minibatches without replacement: a fresh permutation per epoch, drawn
    from the seed's key, so batch t is a pure function of (key, t).

    Calling it gives step t's batch. The trainer instead asks for a whole
    chunk's indices at once (`plan`), which sorts once per epoch touched
    rather than once per step (the sort dominated small models' step time).
    """

    def __init__(self, batch_size: int):
        self.batch_size = batch_size

    # Equal samplers are interchangeable, so fits that share a step function also share
    # its compiled chunk (`compile_chunk` is cached on its arguments).
    def __eq__(self, other):
        return type(other) is type(self) and other.batch_size == self.batch_size

    def __hash__(self):
        return hash((type(self), self.batch_size))

    def _epoch_order(self, key, epoch, n):
        return jax.random.permutation(jax.random.fold_in(jax.random.fold_in(key, DATA_STREAM), epoch), n)

    def plan(self, key, first_step, length: int, n: int):
        """Indices (length, batch_size) of steps first_step .. first_step + length - 1."""
        per_epoch = n // self.batch_size
        if per_epoch < 1:
            raise ValueError(f"batch size {self.batch_size} exceeds the {n} training examples")
        first_epoch = first_step // per_epoch
        touched = length // per_epoch + 2  # static bound on the epochs a chunk spans
        orders = jax.vmap(lambda e: self._epoch_order(key, first_epoch + e, n))(jnp.arange(touched))
        steps = first_step + jnp.arange(length)
        epochs = steps // per_epoch - first_epoch
        offsets = (steps % per_epoch) * self.batch_size
        return orders[epochs[:, None], offsets[:, None] + jnp.arange(self.batch_size)]

    def take(self, data, index):
        return jax.tree.map(lambda a: a[index], data)

    def __call__(self, data, key, step):
        n = jax.tree.leaves(data)[0].shape[0]
        return self.take(data, self.plan(key, step, 1, n)[0])


def epoch_batches(batch_size: int) -> EpochBatches:
    return EpochBatches(batch_size)


def apply_gradients(state: TrainState, grads, optimizer: optax.GradientTransformation):
    """One optimizer update; returns the new state and the l2 norms of the
    gradients, parameters and updates (big_vision logs the same three)."""
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    norms = {
        "grad_norm": optax.tree.norm(grads),
        "param_norm": optax.tree.norm(params),
        "update_norm": optax.tree.norm(updates),
    }
    return state.replace(params=params, opt_state=opt_state), norms


def supervised_step(model, optimizer: optax.GradientTransformation, loss=softmax_cross_entropy):
    """Classifier step: cross-entropy (default) on (x, y) minibatches."""

    def step(state: TrainState, batch):
        x, y = batch

        def objective(params):
            logits, model_state = model.apply(params, state.model_state, x, train=True, key=step_key(state))
            return loss(logits, y), (model_state, accuracy(logits, y))

        (value, (model_state, acc)), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
        state, norms = apply_gradients(state, grads, optimizer)
        return state.replace(model_state=model_state), {"loss": value, "accuracy": acc, **norms}

    return step


def classifier_evaluation(model, batch_size: int = 1000) -> Callable:
    """evaluate(state, (x, y)) -> test loss and accuracy, in batches of
    `batch_size` (a trailing remainder is evaluated too)."""

    def evaluate(state: TrainState, data):
        x, y = data
        n = x.shape[0]
        full = (n // batch_size) * batch_size

        def sums(xb, yb):
            logits, _ = model.apply(state.params, state.model_state, xb, train=False)
            return softmax_cross_entropy(logits, yb) * yb.shape[0], accuracy(logits, yb) * yb.shape[0]

        loss_sum, correct = jnp.zeros(()), jnp.zeros(())
        if full:
            chunked = lax.map(lambda b: sums(*b), (x[:full].reshape(-1, batch_size, *x.shape[1:]),
                                                   y[:full].reshape(-1, batch_size)))
            loss_sum, correct = chunked[0].sum(), chunked[1].sum()
        if full < n:
            rest = sums(x[full:], y[full:])
            loss_sum, correct = loss_sum + rest[0], correct + rest[1]
        return {"loss": loss_sum / n, "accuracy": correct / n}

    return evaluate


@dataclass(frozen=True)
class Loop:
    """How long to train and how often the host loop does its work (in steps)."""

    steps: int
    chunk: int = 100  # steps per compiled lax.scan
    eval_every: int | None = None  # None: evaluate after the last step only
    checkpoint_every: int | None = None  # steps between checkpoints (besides the time-based ones)
    checkpoint_seconds: float | None = 120.0  # also checkpoint when this long passed since the last save
    shard: Literal["seeds", "batch"] = "seeds"

    def __post_init__(self):
        if self.steps < 1 or self.chunk < 1:
            raise ValueError(f"steps and chunk must be positive (got {self.steps}, {self.chunk})")
        for name in ("eval_every", "checkpoint_every"):
            every = getattr(self, name)
            if every is not None and (every < 1 or every % self.chunk):
                raise ValueError(f"{name}={every} must be a positive multiple of chunk={self.chunk}")
        if self.checkpoint_seconds is not None and not self.checkpoint_seconds > 0:
            raise ValueError(f"checkpoint_seconds must be positive or None (got {self.checkpoint_seconds})")


@dataclass(frozen=True)
class RunAxis:
    """The trainer's leading axis: `runs` real runs (members x seeds, member-major),
    padded with copies of the last run to `padded` so it divides over the devices;
    the padding is trained and dropped from everything `fit` returns."""

    keys: Any  # (padded,) typed keys
    inputs: Any  # member inputs (padded, ...) or None
    runs: int
    padded: int
    shape: tuple[int, int]  # (members, seeds); members is 1 without a sweep
    labels: list | None  # per run {"member": m, "seed": s, **member label}, None without a sweep

    @classmethod
    def build(cls, keys, members: Members | None, shard: str) -> "RunAxis":
        if members is None:
            if keys.ndim != 1:
                raise ValueError(f"keys must be one axis of seeds without members (got shape {keys.shape})")
            shape, inputs, labels = (1, keys.shape[0]), None, None
        else:
            if keys.ndim == 1:  # the seeds are shared by every member
                keys = jnp.tile(keys, members.count)
                shape = (members.count, keys.shape[0] // members.count)
            elif keys.ndim == 2 and keys.shape[0] == members.count:  # a key per member and seed
                shape = keys.shape
                keys = keys.reshape(-1)
            else:
                raise ValueError(f"keys of shape {keys.shape} are neither (seeds,) nor "
                                 f"({members.count} members, seeds)")
            inputs = members.for_runs(shape[1])
            labels = [{"member": m, "seed": s, **members.labels[m]}
                      for m in range(shape[0]) for s in range(shape[1])]
        runs = keys.shape[0]
        devices = jax.device_count()
        padded = -(-runs // devices) * devices if shard == "seeds" else runs
        if padded > runs:
            pad = lambda a: jnp.concatenate([a, jnp.repeat(a[-1:], padded - runs, axis=0)])  # noqa: E731
            keys = pad(keys)
            inputs = jax.tree.map(pad, inputs) if inputs is not None else None
        return cls(keys, inputs, runs, padded, shape, labels)

    def real(self, tree):
        """`tree` (leading run axis, maybe padded) without the padding."""
        if self.padded == self.runs:
            return tree
        return jax.tree.map(lambda a: a[: self.runs], tree)


@dataclass
class FitResult:
    """Host copies of what a run produced; arrays have a leading runs axis
    (the seeds, or members x seeds member-major in a sweep)."""

    state: TrainState  # final states (device arrays, runs leading)
    history: dict  # {"step": [...], "train/<m>": [[per run]...], "eval/<m>": ..., "eval_step": [...]}
    diverged_at: np.ndarray  # (runs,) int, -1 where the run never diverged
    seconds: float  # wall time of the training chunks in this process (compile included)
    steps_per_second: float  # after the first chunk (compile excluded)
    shape: tuple[int, int] = (1, 0)  # (members, seeds)
    members: list | None = None  # per run {"member": m, "seed": s, **label}; None without a sweep

    def curve(self, name: str) -> np.ndarray:
        """A logged metric as an array (points, runs), NaN where not finite."""
        return np.array(self.history[name], dtype=float)

    def grid(self, name: str) -> np.ndarray:
        """A logged metric in the sweep's shape (points, members, seeds)."""
        curve = self.curve(name)
        return curve.reshape(curve.shape[0], *self.shape)


def _guarded(step: Callable) -> Callable:
    """Run `step`; a run whose loss or gradient norm is non-finite keeps its old
    parameters, optimizer and model state, is marked dead and remembers the step.

    `ok` is decided from what is known before the update (the loss and, when the step
    reports it, "grad_norm"), so XLA fuses the keep-or-update selects into the update
    itself; deciding from every metric (the parameter and update norms are reductions
    over the new parameters) made it finish the update, reduce, then select in extra
    passes (trainer-bench's rows against a bare scan, docs/benchmarks.md). Any other
    non-finite metric also stops the run at that step, its update kept."""

    def guarded(state: TrainState, batch):
        new, metrics = step(state, batch)
        before = jnp.isfinite(metrics["loss"])
        if "grad_norm" in metrics:
            before = before & jnp.isfinite(metrics["grad_norm"])
        finite = before & jnp.all(jnp.array([jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(metrics)]))
        ok = state.alive & before
        keep = lambda a, b: jnp.where(ok, a, b)  # noqa: E731
        new = new.replace(
            params=jax.tree.map(keep, new.params, state.params),
            opt_state=jax.tree.map(keep, new.opt_state, state.opt_state),
            model_state=jax.tree.map(keep, new.model_state, state.model_state),
            step=state.step + 1,
            key=state.key,
            member=state.member,
            alive=ok & finite,
            diverged_at=jnp.where(state.alive & ~finite, state.step, state.diverged_at),
        )
        metrics = jax.tree.map(lambda v: jnp.where(ok & finite, v, jnp.nan), metrics)
        return new, metrics

    return guarded


@dataclass(frozen=True)
class Chunk:
    """A compiled chunk: `plan`, when the sampler has one, draws every run's batch indices of
    the chunk's steps, (length, runs, batch); `scan` runs jit(scan(vmap(guarded step))) on them.
    Called as `chunk(states, data) -> (states, metrics)`; `lower(states, data)` lowers `scan`.

    The plan is its own program (`compile_plan`), shared by every fit with an equal sampler,
    chunk length and run count: inside each chunk its epoch permutations (threefry and a sort)
    cost about 1.5 s of compiling per fit on the CPU. The indices are the same integers either way."""

    scan: Callable  # jitted (states, data, index or None) -> (states, metrics (length, runs))
    plan: Callable | None  # jitted (keys, steps, n) -> index (length, runs, batch), None: sampled per step

    def indices(self, states, data):
        if self.plan is None:
            return None
        return self.plan(states.key, states.step, jax.tree.leaves(data)[0].shape[0])

    def __call__(self, states, data):
        return self.scan(states, data, self.indices(states, data))

    def lower(self, states, data):
        return self.scan.lower(states, data, self.indices(states, data))


@functools.lru_cache(maxsize=32)
def compile_plan(sample_batch, length: int):
    """jit(vmap(sample_batch.plan)): the batch indices (length, runs, batch) of every run's next
    `length` steps from its key and step; `n`, the number of examples, is static."""

    def plan(keys, steps, n: int):
        index = jax.vmap(lambda key, step: sample_batch.plan(key, step, length, n))(keys, steps)
        return jnp.swapaxes(index, 0, 1)

    return jax.jit(plan, static_argnums=2)


@functools.lru_cache(maxsize=32)
def compile_chunk(step: Callable, sample_batch: Callable, length: int, batch_sharding=None) -> Chunk:
    """jit(scan(vmap(step))) over `length` steps; returns per-step metrics of
    shape (length, seeds). A sampler with a `plan` method (EpochBatches) has
    the chunk's batch indices drawn up front (`compile_plan`), otherwise it is
    called per step.

    Cached: fits that pass the same step object (and an equal sampler) reuse one
    jitted function, so same-shaped runs trace and compile once per process."""
    guarded = _guarded(step)
    planned = hasattr(sample_batch, "plan")

    def one_seed(state, data, index):
        batch = sample_batch.take(data, index) if planned else sample_batch(data, state.key, state.step)
        if batch_sharding is not None:
            batch = parallel.constrain_leading(batch, batch_sharding)
        return guarded(state, batch)

    def chunk(states, data, index):
        if index is None:
            index = jnp.zeros((length, jax.tree.leaves(states.step)[0].shape[0]))
        return lax.scan(lambda s, i: jax.vmap(one_seed, in_axes=(0, None, 0))(s, data, i), states, index)

    return Chunk(jax.jit(chunk, donate_argnums=0), compile_plan(sample_batch, length) if planned else None)


@functools.lru_cache(maxsize=32)
def _compile_evaluation(evaluate: Callable):
    """jit(vmap(evaluate)) over the seeds, cached like `compile_chunk`."""
    return jax.jit(jax.vmap(evaluate, in_axes=(0, None)))


def init_states(init: Callable, keys, shard: str, inputs=None):
    """vmap(init) over the run keys (and the runs' member inputs, when given: `init(key,
    inputs)`), created already sharded over the runs (replicated on every device with batch
    sharding; pad the runs to a multiple of the device count first, see `RunAxis`). The keys
    and inputs go in as global arrays, as multi-process jit needs."""
    sharding = parallel.leading_axis_sharding(keys.shape[0]) if shard == "seeds" else None
    if shard == "seeds" and sharding is None and jax.device_count() > 1:
        raise ValueError(f"{keys.shape[0]} runs do not divide over {jax.device_count()} devices "
                         "(fit pads them; pass a multiple of the device count to init_states)")
    out_sharding = sharding or parallel.replicated()
    if inputs is None:
        return jax.jit(jax.vmap(init), out_shardings=out_sharding)(parallel.put_replicated(keys))
    create = jax.jit(jax.vmap(init), out_shardings=out_sharding)
    return create(parallel.put_replicated(keys), parallel.put_replicated(inputs))


def settle_weak_types(chunk_fn, states, data, rounds: int = 4):
    """`states` with every weakly typed leaf (e.g. `jnp.full(shape, 0.5)` in an init) that a
    chunk returns strongly typed, of the same dtype, made strong up front.

    Otherwise the first chunks change their input types and each change compiles the chunk
    again (three compiles of Bayes by Backprop's chunk, one needed). Values and dtypes are
    unchanged, so the numbers are too; found by tracing (`eval_shape`), not compiling."""

    def settle(leaf, out):
        same = getattr(leaf, "dtype", None) == out.dtype and getattr(leaf, "shape", None) == out.shape
        if same and getattr(leaf, "weak_type", False) and not out.weak_type:
            return lax.convert_element_type(leaf, leaf.dtype)
        return leaf

    for _ in range(rounds):
        out = jax.eval_shape(chunk_fn, states, data)[0]
        settled = jax.tree.map(settle, states, out)
        if all(a is b for a, b in zip(jax.tree.leaves(settled), jax.tree.leaves(states))):
            return states
        states = settled
    return states


def _batch_sharding(shard: str):
    if shard != "batch" or jax.device_count() == 1:
        return None
    # Inside vmap the constraint names the per-seed batch axis.
    return NamedSharding(parallel.mesh(), P(parallel.AXIS))


def fit(
    name: str,
    *,
    init: Callable,
    step: Callable,
    sample_batch: Callable,
    data,
    loop: Loop,
    keys,
    members: Members | None = None,
    evaluate: Callable | None = None,
    eval_data=None,
    session=None,
    observe: Callable | None = None,
) -> FitResult:
    """Train every seed of `keys` (and, with `members`, every member x seed) for
    `loop.steps` steps.

    With `members` (a `common.members.Members`), `init(key, inputs)` gets the member's
    inputs and `keys` is (seeds,), shared by the members, or (members, seeds).
    `observe(states, eval_data)`, optional, runs on the host (not jitted) at each
    evaluation point on every run's state (leading runs axis, padding included)
    and returns arrays with that leading axis: they are recorded (padding dropped)
    as `eval/<name>` beside `evaluate`'s, so they are logged and checkpointed too.
    `session` (a `common.runs.Session`, optional) supplies the metrics log and
    the checkpoint folder `checkpoints/<name>`, and says whether to resume.
    A SIGINT/SIGTERM saves a checkpoint at the next chunk boundary and raises
    `Interrupted` (see `common.interrupts`). A sweep point batched with others
    (`session.slot`, common.sweep_batch) whose members are the swept fields trains
    every point of its batch in this one program and gets its own part.
    """
    slot = getattr(session, "slot", None)  # a sweep point batched with others (common.sweep_batch)
    with interrupts.handling():
        if slot is not None and slot.covers(members, keys):
            return slot.fit(name, members, lambda every, batch_session: _fit(
                name, init, step, sample_batch, data, loop, keys, every, evaluate, eval_data, batch_session,
                observe), session.metrics)
        return _fit(name, init, step, sample_batch, data, loop, keys, members, evaluate, eval_data, session,
                    observe)


def _fit(name, init, step, sample_batch, data, loop, keys, members, evaluate, eval_data, session,
         observe) -> FitResult:
    axis = RunAxis.build(keys, members, loop.shard)
    states = init_states(init, axis.keys, loop.shard, axis.inputs)
    data = parallel.put_replicated(data)
    eval_data = parallel.put_replicated(eval_data) if eval_data is not None else None
    chunk_fn = compile_chunk(step, sample_batch, loop.chunk, _batch_sharding(loop.shard))
    states = settle_weak_types(chunk_fn, states, data)
    eval_fn = _compile_evaluation(evaluate) if evaluate else None
    eval_every = loop.eval_every or loop.steps

    history: dict = {"step": [], "eval_step": []}
    if axis.labels is not None:
        history["members"] = axis.labels
    start = 0
    checkpoints = session.checkpoints(name) if session else None
    log = session.metrics if session else None
    if checkpoints and session.resume:
        restored = checkpoints.restore_latest(states)
        if restored is not None:
            start, states, history = restored
        log.drop_after(name, start)  # lines logged after the checkpoint are redone

    bar = progress(loop.steps, name, initial=start)
    started, timed_steps, timed_seconds = time.perf_counter(), 0, 0.0
    last_save = time.monotonic()
    current = start
    while current < loop.steps:
        length = min(loop.chunk, loop.steps - current)
        fn = chunk_fn if length == loop.chunk else compile_chunk(
            step, sample_batch, length, _batch_sharding(loop.shard))
        tick = time.perf_counter()
        states, metrics = fn(states, data)
        metrics = _real_columns(parallel.to_host(metrics), axis.runs)
        elapsed = time.perf_counter() - tick
        if current > start:
            timed_steps, timed_seconds = timed_steps + length, timed_seconds + elapsed
        current += length
        record = {f"train/{k}": _chunk_mean(v) for k, v in metrics.items()}
        history["step"].append(current)
        for k, v in record.items():
            history.setdefault(k, []).append(np.asarray(v, float).tolist())
        if (eval_fn or observe) is not None and (current % eval_every == 0 or current == loop.steps):
            scores = axis.real(parallel.to_host(eval_fn(states, eval_data))) if eval_fn else {}
            if observe is not None:
                scores |= axis.real({k: np.asarray(v) for k, v in observe(states, eval_data).items()})
            history["eval_step"].append(current)
            for k, v in scores.items():
                history.setdefault(f"eval/{k}", []).append(np.asarray(v, float).tolist())
            record.update({f"eval/{k}": v for k, v in scores.items()})
        if log:
            labels = {"members": axis.labels} if axis.labels is not None else {}
            log.write({"run": name, "step": current, **labels, **record})
        signum = interrupts.pending()
        due = (current == loop.steps or signum is not None
               or (loop.checkpoint_every and current % loop.checkpoint_every == 0)
               or (loop.checkpoint_seconds and time.monotonic() - last_save >= loop.checkpoint_seconds))
        if checkpoints and due:
            checkpoints.save(current, states, jsonable(history))
            last_save = time.monotonic()
        bar.update(length)
        loss = metrics["loss"]
        bar.set_postfix(loss=f"{np.nanmean(_chunk_mean(loss)):.4g}" if np.isfinite(loss).any() else "nan")
        if signum is not None and current < loop.steps:
            bar.close()
            if checkpoints:
                checkpoints.close()
            raise interrupts.Interrupted(signum, _interrupt_message(signum, name, current, session))
    bar.close()
    seconds = time.perf_counter() - started
    if checkpoints:
        checkpoints.close()
    states = axis.real(states)
    diverged = np.asarray(parallel.to_host(states.diverged_at))
    return FitResult(
        state=states, history=history, diverged_at=diverged, seconds=seconds,
        steps_per_second=timed_steps / timed_seconds if timed_seconds else float("nan"),
        shape=axis.shape, members=axis.labels,
    )


def _interrupt_message(signum: int, name: str, step: int, session) -> str:
    where = f"interrupted ({interrupts.name(signum)}) at step {step} of {name}"
    if session is None or session.folder is None:
        return f"{where}; nothing saved (no run folder)"
    return f"{where}; checkpoint saved: rerun the same command with --resume --out {session.folder}"


def _real_columns(metrics: dict, runs: int) -> dict:
    """Per-step metrics (steps, padded runs) without the padding runs."""
    return {k: v[:, :runs] for k, v in metrics.items()}


def _chunk_mean(values: np.ndarray) -> np.ndarray:
    """Mean over a chunk's steps per seed; NaN for a seed dead all chunk."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=0)
