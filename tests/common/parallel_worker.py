"""A tiny `fit` whose results tests/common/test_parallel.py compares across
device layouts: one device, 8 simulated devices, two processes.

Run in a fresh process from the repository root, so that XLA_FLAGS (the
number of simulated CPU devices) and the THEORY_LAB_* variables of a
multi-process run take effect before JAX starts:

    XLA_FLAGS=--xla_force_host_platform_device_count=8 \\
        python -m tests.common.parallel_worker seeds batch

Each sharding mode named (`Loop.shard`: "seeds" or "batch") trains the same
8-seed MLP on the same synthetic set; mode "padded" trains a sweep of 2
learning rates x 3 seeds, 6 runs that do not divide 4 or 8 devices (the
trainer pads them); process 0 prints one JSON line
{"devices", "processes", "<mode>": {"params", "history", ...}} with the
results gathered to the host. `--collectives` also reports how many
all-reduces the compiled chunk of each mode contains (one more compile each).
"""

import argparse
import json

import jax
import numpy as np
import optax

from common import parallel
from common.members import learning_rate_sweep, with_hyperparams
from common.models import MLP
from common.train import (
    Loop, RunAxis, _batch_sharding, classifier_evaluation, compile_chunk, epoch_batches, fit, init_states,
    new_state,
    seed_keys, supervised_step,
)

SEEDS = 8
STEPS = 12
CHUNK = 4
BATCH = 16


def synthetic_classes(n_train: int = 128, n_test: int = 64, dim: int = 6, classes: int = 3):
    """Train and test sets of Gaussian blobs around random class centres,
    learnable in a few steps (numpy: the same host data in every process,
    and no compilations)."""
    rng = np.random.default_rng(1)
    centres = 2.0 * rng.standard_normal((classes, dim))
    y = rng.integers(0, classes, n_train + n_test).astype(np.int32)
    x = (centres[y] + rng.standard_normal((n_train + n_test, dim))).astype(np.float32)
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def run(mode: str, collectives: bool) -> dict:
    data, eval_data = synthetic_classes()
    model = MLP((8,), 3)
    sweep = learning_rate_sweep(optax.sgd, [0.1, 0.05]) if mode == "padded" else None
    optimizer = sweep.optimizer if sweep else optax.sgd(0.1)
    step, sampler = supervised_step(model, optimizer), epoch_batches(BATCH)

    def init(key, *member):
        params, model_state = model.init_variables(key, data[0][:1])
        opt_state = with_hyperparams(optimizer.init(params), member[0]) if member else optimizer.init(params)
        return new_state(params, opt_state, key, model_state)

    out = fit(
        f"parallel-{mode}", init=init, step=step, sample_batch=sampler, data=data,
        loop=Loop(steps=STEPS, chunk=CHUNK, eval_every=2 * CHUNK, shard="batch" if mode == "batch" else "seeds"),
        keys=seed_keys(0, 3 if sweep else SEEDS), members=sweep.members if sweep else None,
        evaluate=classifier_evaluation(model, batch_size=32), eval_data=eval_data,
    )
    weight = out.state.params["layers"][0]["w"]
    result = {
        "params": jax.tree.map(lambda a: a.tolist(), parallel.to_host(out.state.params)),
        "history": out.history,
        "step": parallel.to_host(out.state.step).tolist(),
        "params_devices": len(weight.sharding.device_set),
        "params_replicated": weight.sharding.is_fully_replicated,
    }
    if sweep:  # the states the trainer trains: padded to the devices and sharded
        axis = RunAxis.build(seed_keys(0, 3), sweep.members, "seeds")
        trained = init_states(init, axis.keys, "seeds", axis.inputs).params["layers"][0]["w"]
        result["padded_runs"] = axis.padded
        result["params_devices"] = len(trained.sharding.device_set)
        result["params_replicated"] = trained.sharding.is_fully_replicated
    if collectives and mode != "padded":
        chunk = compile_chunk(step, sampler, CHUNK, _batch_sharding(mode))
        text = chunk.lower(out.state, parallel.put_replicated(data)).compile().as_text()
        result["all_reduces"] = text.count(" all-reduce(")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modes", nargs="+", choices=("seeds", "batch", "padded"))
    parser.add_argument("--collectives", action="store_true")
    args = parser.parse_args()
    parallel.maybe_initialize_distributed()
    results = {"devices": jax.device_count(), "processes": jax.process_count()}
    for mode in args.modes:
        results[mode] = run(mode, args.collectives)
    if parallel.is_writer():
        print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
