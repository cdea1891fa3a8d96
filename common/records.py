"""Named records in and out of `Results`, so no experiment formats or parses a
key by hand: `put(results, "scratch_e", record)` stores each field of a
NamedTuple or dataclass under `scratch_e/<field>` (numbers in `scalars`, arrays in
`arrays`), and `get(results, "scratch_e", Record)` builds the record back; a
missing field is a KeyError naming its key (a claim reading it says which).

    class Arm(NamedTuple):
        test_accuracy: np.ndarray   # (seeds,)
        learning_rate: float
    records.put(results, "finetune", Arm(accuracy, 0.01))
    records.get(results, "finetune", Arm).test_accuracy
"""

import dataclasses
import typing

import numpy as np

from common.experiment import Results


def _fields(record_type) -> tuple[str, ...]:
    if dataclasses.is_dataclass(record_type):
        return tuple(f.name for f in dataclasses.fields(record_type))
    if hasattr(record_type, "_fields"):
        return tuple(record_type._fields)
    raise TypeError(f"{record_type!r} is not a NamedTuple or a dataclass")


def key(prefix: str, field: str) -> str:
    """The one place a record's key is formed: `<prefix>/<field>`."""
    return f"{prefix}/{field}"


def put(results: Results, prefix: str, record) -> None:
    """Each field of `record` into `results`: a plain number (or 0-d array) as a scalar,
    anything else as an array."""
    for field in _fields(type(record)):
        value = getattr(record, field)
        if isinstance(value, (bool, int, float, np.number)) or (isinstance(value, np.ndarray) and value.ndim == 0):
            results.scalars[key(prefix, field)] = float(value)
        else:
            results.arrays[key(prefix, field)] = np.asarray(value)


def get(results: Results, prefix: str, record_type):
    """The record `put` stored under `prefix`, fields read from scalars or arrays."""
    values = {}
    hints = typing.get_type_hints(record_type)
    for field in _fields(record_type):
        name = key(prefix, field)
        if name in results.scalars:
            value = results.scalars[name]
            values[field] = int(value) if hints.get(field) is int else value
        elif name in results.arrays:
            values[field] = results.arrays[name]
        else:
            raise KeyError(name)
    return record_type(**values)
