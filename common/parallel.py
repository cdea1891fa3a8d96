"""Device meshes for the seed axis or the batch axis, with plain `jit`.

One mesh axis over all devices (of all processes). The trainer puts the seed
axis of its state on it (`NamedSharding(mesh, P("devices"))`), padded to a
multiple of the device count (`common.train.RunAxis`), or constrains each minibatch's batch axis to it
(data parallel, the state replicated); `jit` partitions the compiled program
accordingly. This is the modern form of `pmap`. Results equal the
one-device run to float rounding (tests/common/test_parallel.py).

Several processes (hosts, or several processes on one host): start the same
command in every process, with three environment variables,

    THEORY_LAB_COORDINATOR=<address of process 0's host>:<port>  (the same everywhere)
    THEORY_LAB_NUM_PROCESSES=<N>
    THEORY_LAB_PROCESS_ID=<0 .. N-1, different in each process>

`run.py` then calls `maybe_initialize_distributed()` before any JAX
computation, which calls `jax.distributed.initialize(coordinator_address,
num_processes, process_id)` (CPU collectives over gloo). `jax.devices()` then
lists the devices of all processes and the mesh spans them; every process
feeds the same host data (`put_replicated`), global results come back whole
on every process through `to_host` (an all-gather every process must call),
and only process 0 writes files (`is_writer`). The tests run two processes
with two CPU devices each on localhost, from the repository root, as

    PORT=12355
    for i in 0 1; do
      JAX_PLATFORMS=cpu \
      XLA_FLAGS="--xla_force_host_platform_device_count=2 --xla_backend_optimization_level=0" \
      THEORY_LAB_COORDINATOR=127.0.0.1:$PORT THEORY_LAB_NUM_PROCESSES=2 THEORY_LAB_PROCESS_ID=$i \
        python -m tests.common.parallel_worker seeds batch &
    done; wait

docs/multihost.md has the several-host version.
"""

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from common import interrupts

AXIS = "devices"


VARIABLES = ("THEORY_LAB_COORDINATOR", "THEORY_LAB_NUM_PROCESSES", "THEORY_LAB_PROCESS_ID")
TIMEOUT_VARIABLE = "THEORY_LAB_INIT_TIMEOUT"  # seconds to wait for every process to join (default 120)


def maybe_initialize_distributed() -> None:
    """Join a multi-process run when the launcher's environment asks for one.
    Must run before any JAX computation (it fixes the device list).

    Missing or malformed variables raise `UsageError` (one line). A process whose
    peers do not all join within THEORY_LAB_INIT_TIMEOUT seconds prints one line and
    exits 2: JAX itself would abort with a C++ stack trace, or wait five minutes."""
    from common.config import UsageError

    given = {name: os.environ.get(name) for name in VARIABLES if os.environ.get(name)}
    if not given:
        return
    missing = [name for name in VARIABLES if name not in given]
    if missing:
        raise UsageError(f"a multi-process run needs {', '.join(VARIABLES)}; missing {', '.join(missing)}")
    try:
        count, index = int(given["THEORY_LAB_NUM_PROCESSES"]), int(given["THEORY_LAB_PROCESS_ID"])
        timeout = float(os.environ.get(TIMEOUT_VARIABLE, "120"))
    except ValueError:
        raise UsageError(f"THEORY_LAB_NUM_PROCESSES, THEORY_LAB_PROCESS_ID and {TIMEOUT_VARIABLE} must be "
                         "numbers") from None
    if count < 1 or not 0 <= index < count or not timeout > 0:
        raise UsageError(f"THEORY_LAB_PROCESS_ID={index} must be in 0 .. THEORY_LAB_NUM_PROCESSES-1 "
                         f"(NUM_PROCESSES={count}) and {TIMEOUT_VARIABLE} positive")
    address = given["THEORY_LAB_COORDINATOR"]
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    joined = threading.Event()

    def give_up():
        if not joined.wait(timeout):
            print(f"error: process {index} of {count}: not every process joined {address} within "
                  f"{timeout:g} s (start all {count}, or raise {TIMEOUT_VARIABLE})", file=sys.stderr, flush=True)
            os._exit(2)

    threading.Thread(target=give_up, daemon=True).start()
    jax.distributed.initialize(coordinator_address=address, num_processes=count, process_id=index,
                               initialization_timeout=int(timeout) + 60)  # ours fires first
    joined.set()


def mesh() -> Mesh:
    """All devices on one axis. Auto axis type: `jax.make_mesh` defaults to
    Explicit axes (sharding in types), under which gathering a batch from the
    replicated data with seed-sharded indices is an error; with Auto the
    partitioner places such intermediates itself."""
    return jax.make_mesh((jax.device_count(),), (AXIS,), axis_types=(AxisType.Auto,))


def leading_axis_sharding(size: int) -> NamedSharding | None:
    """Shard a leading axis of `size` over all devices, or None when it does
    not divide evenly (or there is one device)."""
    if jax.device_count() == 1 or size % jax.device_count():
        return None
    return NamedSharding(mesh(), P(AXIS))


def replicated() -> NamedSharding:
    return NamedSharding(mesh(), P())


def constrain_leading(tree, sharding: NamedSharding):
    """Inside `jit`: lay out each leaf's leading axis by `sharding` (a leading
    axis split over the mesh), for the leaves where it divides evenly; other
    leaves (scalars, odd sizes) are left to the partitioner."""
    count = sharding.mesh.size

    def constrain(x):
        divides = x.ndim and x.shape[0] % count == 0
        return jax.lax.with_sharding_constraint(x, sharding) if divides else x

    return jax.tree.map(constrain, tree)


def _is_key(x) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def put_replicated(tree):
    """Place host values on every device of every process, as global arrays.

    Every process must pass the same values (it builds only its own devices'
    copies). Typed PRNG keys are placed as their key data and re-wrapped."""
    if jax.device_count() == 1:
        return jax.device_put(tree)
    sharding = replicated()

    def put(x):
        if _is_key(x):
            impl = jax.random.key_impl(x)
            return jax.random.wrap_key_data(put(jax.random.key_data(x)), impl=impl)
        host = np.asarray(x)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(put, tree)


def to_host(tree):
    """Numpy copies, whole on every process: arrays spread over several
    processes are all-gathered (every process must call this with the same
    tree); process-local values are just copied."""

    def get(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            return multihost_utils.process_allgather(x, tiled=True)
        return jax.device_get(x)

    return jax.tree.map(get, tree)


def is_writer() -> bool:
    """Only process 0 writes files."""
    return jax.process_index() == 0


def map_independent(fn, items, max_workers: int = 2) -> list:
    """[fn(item) for item in items], the calls in threads when this is a single process.

    For independent trainings (one per architecture or method): XLA:CPU runs small programs
    and every compile on about one core, so threads use the others; results are the same
    numbers in the same order as the loop (the threads' lines in metrics.jsonl interleave,
    each line whole). Several processes run the loop: each must issue its collectives in the
    same order as the others.
    """
    items = list(items)
    if jax.process_count() > 1 or len(items) < 2 or max_workers < 2:
        return [fn(item) for item in items]
    # A Ctrl-C is recorded for the fits in the threads, which checkpoint and stop.
    with interrupts.handling(), ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
        return list(pool.map(fn, items))
