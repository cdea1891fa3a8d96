"""Device meshes for the seed axis or the batch axis, with plain `jit`.

One mesh axis over all devices (of all processes). The trainer puts the seed
axis of its state on it (`NamedSharding(mesh, P("seeds"))`) when the number of
seeds divides evenly, or constrains each minibatch's batch axis to it
(data parallel); `jit` partitions the compiled program accordingly. This is
the modern form of `pmap`.

Several hosts: start the same command on every host after
`jax.distributed.initialize(coordinator_address="host0:1234",
num_processes=N, process_id=i)` (`run.py` does this when the environment
variables THEORY_LAB_COORDINATOR, THEORY_LAB_NUM_PROCESSES and
THEORY_LAB_PROCESS_ID are set). `jax.devices()` then lists the devices of all
processes, the mesh spans them, and only process 0 writes files.
"""

import os

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

AXIS = "devices"


def maybe_initialize_distributed() -> None:
    """Join a multi-process run when the launcher's environment asks for one."""
    address = os.environ.get("THEORY_LAB_COORDINATOR")
    if not address:
        return
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=address,
        num_processes=int(os.environ["THEORY_LAB_NUM_PROCESSES"]),
        process_id=int(os.environ["THEORY_LAB_PROCESS_ID"]),
    )


def mesh():
    return jax.make_mesh((jax.device_count(),), (AXIS,))


def leading_axis_sharding(size: int) -> NamedSharding | None:
    """Shard a leading axis of `size` over all devices, or None when it does
    not divide evenly (then everything stays on the default device)."""
    if jax.device_count() == 1 or size % jax.device_count():
        return None
    return NamedSharding(mesh(), P(AXIS))


def replicated() -> NamedSharding:
    return NamedSharding(mesh(), P())


def put_replicated(tree):
    """Place host arrays on every device (each process holds the same values)."""
    if jax.device_count() == 1:
        return jax.device_put(tree)
    sharding = replicated()
    return jax.tree.map(
        lambda x: jax.make_array_from_callback(np.shape(x), sharding, lambda idx: np.asarray(x)[idx]),
        tree,
    )


def to_host(tree):
    """Gather (possibly multi-process) arrays to numpy on every process."""
    if jax.process_count() == 1:
        return jax.device_get(tree)
    return multihost_utils.process_allgather(tree, tiled=True)


def is_writer() -> bool:
    """Only process 0 writes files."""
    return jax.process_index() == 0
