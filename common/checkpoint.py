"""Checkpoints with orbax-checkpoint's CheckpointManager, behind three calls.

A checkpoint holds the train state (typed PRNG keys stored as their raw key
data) and a JSON history. Saves are atomic in orbax (a step is written to a
temporary folder, then renamed), so a run killed mid-save leaves the previous
step intact. A damaged newest step (truncated file) is skipped with a warning
for the newest one that restores.

Orbax coordinates a save through process-wide signals, and two saves in flight
at once (two trainings in threads, `parallel.map_independent`) time out on
each other: every orbax call here holds one lock, so saves take turns.
"""

import threading
import warnings
from pathlib import Path

import jax
import orbax.checkpoint as ocp


def _is_key(x) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _to_savable(tree):
    return jax.tree.map(lambda x: jax.random.key_data(x) if _is_key(x) else x, tree)


_ORBAX = threading.RLock()


class Checkpoints:
    def __init__(self, directory: Path, max_to_keep: int = 2):
        self.directory = Path(directory).absolute()
        with _ORBAX:
            self.manager = ocp.CheckpointManager(
                self.directory,
                options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True),
            )

    def save(self, step: int, state, history: dict) -> None:
        savable = _to_savable(state)
        with _ORBAX:
            self.manager.save(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardSave(savable),
                    history=ocp.args.JsonSave(history),
                ),
            )
            self.manager.wait_until_finished()

    def restore_latest(self, like_state):
        """(step, state, history) of the newest checkpoint that restores, or None.

        `like_state` is a live state of the right structure, shapes, dtypes and
        shardings (the freshly initialised one): the explicit restore target.
        """
        target = jax.tree.map(ocp.utils.to_shape_dtype_struct, _to_savable(like_state))
        with _ORBAX:
            steps = sorted(self.manager.all_steps(), reverse=True)
        for step in steps:
            try:
                with _ORBAX:
                    restored = self.manager.restore(
                        step,
                        args=ocp.args.Composite(
                            state=ocp.args.StandardRestore(target),
                            history=ocp.args.JsonRestore(),
                        ),
                    )
            except Exception as error:  # a damaged step: orbax raises many kinds
                warnings.warn(
                    f"checkpoint step {step} in {self.directory} is unreadable "
                    f"({type(error).__name__}); trying the previous one",
                    stacklevel=2,
                )
                continue
            state = jax.tree.map(
                lambda live, saved: jax.random.wrap_key_data(saved, impl=jax.random.key_impl(live))
                if _is_key(live) else saved,
                like_state, restored["state"],
            )
            return step, state, restored["history"]
        return None

    def close(self) -> None:
        with _ORBAX:
            self.manager.close()
