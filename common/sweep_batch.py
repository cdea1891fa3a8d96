"""Sweep points as members of one compiled program.

Points of a sweep that differ only in fields the experiment names in `MEMBER_FIELDS`
(fields its fits take as sweep members, e.g. a learning rate held in the optimizer's
state) form a `Batch`. The first of them to call `fit(name, ...)` trains every point of
the batch at once: its one-member `Members` (this point's values) widened to one member
per point, M points x S seeds in one vmapped program (purejaxrl's `jit(vmap(train))`
over configs). Each point, that one and the later ones, gets its own slice, as its own
run would have returned it, and its rows in its metrics.jsonl.

A fit whose members do not name every batched field with this point's values (a tuning
grid, a constant rate) trains alone, as outside a sweep, so a result is never borrowed
from another point's config. The batch keeps its checkpoints and its whole metrics log in
`<sweep>/batches/<hash of its points>/`; a resumed sweep restores them (a finished fit
restores its last step and trains nothing).
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from common.checkpoint import Checkpoints
from common.log import MetricsLog
from common.members import Members


@dataclass
class Batch:
    """Points whose fits train together: the batched `fields`, each point's values of them,
    the folder of the batch's checkpoints, and each fit's result over every point."""

    fields: tuple[str, ...]
    values: tuple[dict, ...]
    folder: Path
    points: tuple[str, ...] = ()  # the points' folder names (points/<name>), as points.json records them
    fits: dict = field(default_factory=dict)

    @classmethod
    def of(cls, fields: tuple[str, ...], values: list[dict], sweep_folder: Path, point_folders: list[Path]) -> "Batch":
        name = hashlib.sha256("\n".join(sorted(p.name for p in point_folders)).encode()).hexdigest()[:12]
        return cls(fields, tuple({f: v[f] for f in fields} for v in values), sweep_folder / "batches" / name,
                   tuple(p.name for p in point_folders))

    def members(self, one: Members) -> Members:
        """`one` (this point's single member) widened to a member per point: the batched
        fields' inputs set to each point's values, every other input repeated."""
        def widen(name, leaf):
            if name in self.fields:
                return jnp.asarray([v[name] for v in self.values], jnp.asarray(leaf).dtype)
            return jnp.repeat(jnp.asarray(leaf), len(self.values), axis=0)

        inputs = {name: widen(name, leaf) for name, leaf in one.inputs.items()}
        return Members(inputs, tuple({**one.labels[0], **v} for v in self.values))


class BatchSession:
    """What the batch's one fit writes: checkpoints and a metrics log in the batch's folder.
    Interrupted, it names the sweep's folder to resume (the batch is part of the sweep)."""

    def __init__(self, batch: Batch, sweep_folder: Path, key: str):
        self.resume = batch.folder.is_dir()
        batch.folder.mkdir(parents=True, exist_ok=True)
        (batch.folder / "points.json").write_text(json.dumps({"fields": list(batch.fields),
                                                               "points": list(batch.points)}))
        self.folder = sweep_folder
        self._checkpoints = batch.folder / "checkpoints" / key  # the fit's name, numbered from its second call
        self.metrics = MetricsLog(batch.folder / "metrics.jsonl")

    def checkpoints(self, name: str) -> Checkpoints:
        return Checkpoints(self._checkpoints)


@dataclass(frozen=True)
class Slot:
    """One point's place in a batch: the batch, the point's index in it, the sweep's folder,
    and how often this point has called each fit name (a name fitted twice is two fits)."""

    batch: Batch
    index: int
    sweep_folder: Path
    calls: dict = field(default_factory=dict)

    def covers(self, members: Members | None, keys) -> bool:
        """Does this fit take every batched field as its one member's input, at this point's values?"""
        if members is None or members.count != 1 or members.per_seed or getattr(keys, "ndim", 0) != 1:
            return False
        label, mine = members.labels[0], self.batch.values[self.index]
        inputs = members.inputs if isinstance(members.inputs, dict) else {}
        return all(f in inputs and label.get(f) == mine[f] for f in self.batch.fields)

    def fit(self, name: str, members: Members, train, log: MetricsLog):
        """This point's part of fit `name` over the batch; `train(members, session)` runs the
        batch's fit the first time it is asked for. The part is logged to this point's `log`."""
        nth = self.calls[name] = self.calls.get(name, 0) + 1
        key = name if nth == 1 else f"{name}.{nth}"
        if key not in self.batch.fits:
            self.batch.fits[key] = train(self.batch.members(members), BatchSession(self.batch, self.sweep_folder, key))
        part = point_part(self.batch.fits[key], self.index)
        replay(part, name, log)
        return part


def point_part(whole, index: int):
    """Point `index`'s runs of a batched FitResult, shaped as a one-member fit of its own."""
    seeds = whole.shape[1]
    runs = slice(index * seeds, (index + 1) * seeds)
    history = {key: rows if key in ("step", "eval_step") else [row[runs] for row in rows]
               for key, rows in whole.history.items() if key != "members"}
    labels = [{**label, "member": 0} for label in whole.members[runs]]
    history["members"] = labels
    return type(whole)(state=jax.tree.map(lambda a: a[runs], whole.state), history=history,
                       diverged_at=np.asarray(whole.diverged_at)[runs], seconds=whole.seconds,
                       steps_per_second=whole.steps_per_second, shape=(1, seeds), members=labels)


def replay(part, name: str, log: MetricsLog) -> None:
    """The point's metrics.jsonl rows of fit `name`, as its own fit would have logged them."""
    log.drop_after(name, 0)
    history = part.history
    evaluated = {step: i for i, step in enumerate(history["eval_step"])}
    for i, step in enumerate(history["step"]):
        record = {key: rows[i] for key, rows in history.items() if key.startswith("train/")}
        if step in evaluated:
            record |= {key: rows[evaluated[step]] for key, rows in history.items() if key.startswith("eval/")}
        log.write({"run": name, "step": step, "members": history["members"], **record})


def trained_together(sweep_folder: Path, point_folders: list[Path]) -> list[tuple[tuple[str, ...], list[int]]]:
    """What the sweep's batches record (batches/*/points.json): for each batch that trained,
    its fields and its points' indices in `point_folders` (sweep.md says which trained together,
    whether here or in launched jobs)."""
    index = {folder.name: i for i, folder in enumerate(point_folders)}
    together = []
    for record in sorted((sweep_folder / "batches").glob("*/points.json")):
        saved = json.loads(record.read_text())
        together.append((tuple(saved["fields"]), sorted(index[name] for name in saved["points"] if name in index)))
    return sorted(together, key=lambda batch: batch[1])

