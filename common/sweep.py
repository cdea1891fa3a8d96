"""A grid over Config fields: `run.py EXP --sweep learning_rate=1e-3,1e-2 [--sweep ...]`
and `experiments.run(name, sweep={"learning_rate": [1e-3, 1e-2]})`.

One sweep folder holds every point of the grid as a run folder of its own,
`points/<hash of the point's config>/` (config.json, results.json, report.md,
figures/ as any run), beside `sweep.json` (the axes and each point's folder,
written first) and, at the end, `sweep.md` (one row per point: the swept values,
each claim's verdict and value; then a row per point of its scalars) and
`figures/claimNN.png` / `figures/scalar-<name>.png` (each claim's value and interval,
each scalar's value, over the first swept axis, a line per value of the others). `report`,
`compare` and `export` find the points as they find any run.

Points that differ only in fields the experiment names in `MEMBER_FIELDS` (fields its
fits take as sweep members: mnist1d-baselines' learning rate, held in the optimizer's
state) train as members of one compiled program (common.sweep_batch): the first such
point's fits train every point of its batch at once, the others read their parts. Every
other field (a constant of the program, or one that changes shapes: widths, depth)
splits the points into separate programs, run one after another. A resumed sweep
(`--resume --out SWEEP`) skips the finished points, resumes the unfinished one from its
checkpoint and runs the rest; a folder that holds another sweep (other experiment, axes
or base config) is refused.
"""

import dataclasses
import hashlib
import itertools
import json
import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from common.config import UsageError, conform
from common.interrupts import Interrupted
from common.option_names import OptionNames

SCALARS = (int, float, bool, str)


@dataclass(frozen=True)
class Axis:
    """One swept Config field and its values, in the order given."""

    field: str
    values: tuple


@dataclass(frozen=True)
class Point:
    """One point of the grid: the swept values, its full config, its run folder."""

    values: dict
    config: typing.Any
    folder: Path


@dataclass(frozen=True)
class PointResult:
    """A point once run (or found finished): its claims and scalars as results.json holds them."""

    point: Point
    claims: list[dict]
    seconds: float | None
    scalars: dict


def axis_from_text(text: str, config_type) -> Axis:
    """`field=v1,v2,...` (the command line's --sweep) as an Axis; each value is read as
    JSON where it parses (numbers, true/false) and as a word otherwise (a choice)."""
    field, equals, listed = text.partition("=")
    field = field.strip().lstrip("-").replace("-", "_")
    if not equals or not field or not listed.strip():
        raise UsageError(f"--sweep {text!r}: write FIELD=v1,v2,... (e.g. --sweep learning_rate=1e-3,1e-2)")
    return axis(field, [_read_word(word.strip()) for word in listed.split(",")], config_type)


def _read_word(word: str):
    try:
        return json.loads(word)
    except ValueError:
        return word


def axis(field: str, values, config_type) -> Axis:
    """A checked Axis: `field` a numeric or choice field of the Config, each value of its type."""
    hints = typing.get_type_hints(config_type)
    if field not in hints:
        names = ", ".join(f.name for f in dataclasses.fields(config_type) if _sweepable(hints[f.name]))
        raise UsageError(f"sweep: no field '{field}' (fields that can be swept: {names})")
    if not _sweepable(hints[field]):
        raise UsageError(f"sweep: '{field}' is a {_type_name(hints[field])}, not a number or a choice; "
                         "sweep a numeric or choice field")
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise UsageError(f"sweep: the values of '{field}' must be a list, not {values!r}")
    checked = tuple(conform(value, hints[field], field) for value in values)
    if not checked:
        raise UsageError(f"sweep: '{field}' has no values")
    if len(set(checked)) != len(checked):
        raise UsageError(f"sweep: '{field}' lists a value twice ({', '.join(map(str, checked))})")
    return Axis(field, checked)


def _sweepable(hint) -> bool:
    """A number, a flag, a word or a Literal choice (an Optional of one included); not a tuple."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return True
    if origin in (typing.Union, types.UnionType):
        return all(_sweepable(arg) for arg in typing.get_args(hint) if arg is not type(None))
    return hint in SCALARS


def _type_name(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def grid(axes: list[Axis], base, root: Path) -> list[Point]:
    """Every combination of the axes' values (the first axis slowest), each applied to
    the `base` config and checked by its `__post_init__`."""
    fields = [a.field for a in axes]
    if len(set(fields)) != len(fields):
        raise UsageError(f"sweep: a field is swept twice ({', '.join(fields)})")
    points = []
    for combination in itertools.product(*(a.values for a in axes)):
        values = dict(zip(fields, combination))
        try:
            config = dataclasses.replace(base, **values)
        except ValueError as error:
            raise UsageError(f"sweep point {_label(values)}: invalid value: {error}") from None
        points.append(Point(values, config, root / "points" / config_hash(config)))
    return points


def config_hash(config) -> str:
    """The first 12 hex digits of the SHA-256 of the config as config.json holds it:
    the same config, the same folder, on any machine."""
    from common.runs import config_dict

    text = json.dumps(config_dict(config), sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _label(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def describe(module, preset: str, axes: list[Axis], base) -> dict:
    """sweep.json's identity: what a resumed sweep must match."""
    from common.runs import config_dict

    return {"experiment": module.NAME, "preset": preset, "axes": [[a.field, list(a.values)] for a in axes],
            "base": config_dict(base)}


def check_sweep_folder(folder: Path, identity: dict, *, resume: bool, names: OptionNames) -> None:
    """A new sweep needs a folder that is absent or empty; a resumed one, this very sweep's folder."""
    record = folder / "sweep.json"
    if not resume:
        if os.path.lexists(folder) and (not folder.is_dir() or any(folder.iterdir())):
            raise UsageError(f"{names.out_at(folder)}: the folder exists and is not empty; "
                             f"{names.add_resume} to continue the sweep there, or {names.another_out}")
        return
    if not os.path.lexists(record):
        raise UsageError(f"{names.resume_at(folder)}: no sweep there (no sweep.json); {names.drop_resume} to start one")
    try:
        saved = json.loads(record.read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"{record} cannot be read as a sweep ({error})") from None
    wanted = json.loads(json.dumps(identity))
    different = [key for key in wanted if saved.get(key) != wanted[key]]
    if different:
        raise UsageError(f"{names.resume_at(folder)}: that folder holds another sweep (it differs in its "
                         f"{' and '.join(different)}); resume it with the command that started it, "
                         "or choose another folder")


def run_sweep(module, preset: str, axes: list[Axis], base, folder: Path, *, resume: bool, names: OptionNames,
              session_options: dict, launcher=None, together: bool = True) -> list[PointResult]:
    """Run (or skip, or resume) each point in order, here or through `launcher`
    (common.sweep_launch: a job per group of points); then sweep.md and the figures.
    `together`: points that differ only in member fields train as one program's members
    (--sweep-mode members); False: a program per point (--sweep-mode runs)."""
    identity = describe(module, preset, axes, base)
    check_sweep_folder(folder, identity, resume=resume, names=names)
    points = grid(axes, base, folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = {**identity, "points": [{"values": p.values, "folder": str(p.folder.relative_to(folder))}
                                     for p in points]}
    _write_whole(folder / "sweep.json", json.dumps(record, indent=2))
    if launcher is not None:  # the jobs run the unfinished points; this process then reads them all back
        launcher.run(folder, [i for i, p in enumerate(points) if not os.path.lexists(p.folder / "results.json")],
                     session_options, together)
    # after launched jobs every point is finished and read back: the jobs did (or did not) batch them
    slots = batch_slots(module, axes, points, folder, range(len(points))) if together and launcher is None else {}
    done = [run_point(module, preset, p, i, points, folder, names, session_options, slots.get(i))
            for i, p in enumerate(points)]
    write_summary(folder, axes, done)
    return done


def batch_slots(module, axes: list[Axis], points: list[Point], folder: Path, indices) -> dict:
    """Point index -> its `Slot` in a batch, for the points of `indices` that share every
    value but those of the experiment's `MEMBER_FIELDS` with another point of `indices`."""
    from common.sweep_batch import Batch, Slot

    batched = tuple(a.field for a in axes if a.field in getattr(module, "MEMBER_FIELDS", ()))
    groups: dict[tuple, list[int]] = {}
    for index in indices if batched else ():
        rest = tuple(value for name, value in points[index].values.items() if name not in batched)
        groups.setdefault(rest, []).append(index)
    slots = {}
    for group in (g for g in groups.values() if len(g) > 1):
        batch = Batch.of(batched, [points[i].values for i in group], folder, [points[i].folder for i in group])
        slots |= {index: Slot(batch, n, folder) for n, index in enumerate(group)}
        print(f"points {', '.join(str(i + 1) for i in group)} train as members of one program "
              f"({', '.join(batched)})", flush=True)
    return slots


def run_point(module, preset: str, point: Point, index: int, points: list[Point], folder: Path,
              names: OptionNames, session_options: dict, slot=None) -> PointResult:
    """One point: read back where finished, resumed where a run was started there, else run
    (its fits, in `slot`'s batch, shared with the batch's other points)."""
    from common import runs
    from common.run_records import read_finished

    print(f"[point {index + 1}/{len(points)}] {_label(point.values)}  ({point.folder})", flush=True)
    if os.path.lexists(point.folder / "results.json"):
        finished = read_finished(point.folder)
        print("  finished: read back", flush=True)
        return PointResult(point, finished.results.get("claims", []), finished.results.get("seconds"),
                           finished.results.get("scalars", {}))
    again = os.path.lexists(point.folder / "config.json")
    if again:
        runs.check_resumable(point.folder, point.config, names)
    session = runs.Session(point.folder, resume=again, **session_options)
    session.slot = slot
    try:
        executed = runs.execute(module, point.config, preset, session, names)
    except Interrupted as interrupt:
        raise Interrupted(interrupt.signal, f"{interrupt}\nthe sweep stopped at point {index + 1} of {len(points)}; "
                                            f"{names.resume_at(folder)} continues it") from None
    return PointResult(point, executed.claims, executed.seconds, dict(executed.results.scalars))


def run_points_of(folder: Path, indices: list[int], session_options: dict, together: bool = True) -> list[int]:
    """A launched job's work: the points `indices` of the sweep in `folder`, rebuilt from
    its sweep.json (plain data: nothing but this function's name and arguments travels).
    Finished points are skipped and unfinished ones resumed, so a resubmitted job
    continues where the last one stopped. Returns the indices it ran."""
    import experiments
    from common.config import config_from_dict
    from common.environment import enable_compilation_cache
    from common.option_names import CLI
    from common.xla_flags import set_compile_flags

    set_compile_flags()  # a job is a fresh process: set JAX up as run.py does
    enable_compilation_cache()
    record = json.loads((folder / "sweep.json").read_text())
    module = experiments.find(record["experiment"])
    base = config_from_dict(module.Config, record["base"])
    axes = [axis(field, values, module.Config) for field, values in record["axes"]]
    points = grid(axes, base, folder)
    slots = batch_slots(module, axes, points, folder, indices) if together else {}
    for index in indices:
        run_point(module, record["preset"], points[index], index, points, folder, CLI, session_options,
                  slots.get(index))
    return indices


def write_summary(folder: Path, axes: list[Axis], done: list[PointResult]) -> None:
    """sweep.md (a row per point, and which points trained together as the batches record it)
    and the figures per claim and per scalar, each written whole."""
    from common import sweep_report
    from common.sweep_batch import trained_together

    together = trained_together(folder, [result.point.folder for result in done])
    _write_whole(folder / "sweep.md", sweep_report.table(axes, done, together))
    sweep_report.figures(axes, done, folder / "figures")


def _write_whole(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
