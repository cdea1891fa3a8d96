"""What the JSON files of a run folder must look like to be read back
(docs/results.md): config.json, results.json (its claims, scalars, tables,
notes, seconds) and env.json. Each check raises one UsageError naming the file
and the first thing that is wrong; optional keys may be absent, but a key that
is there must have its type."""

from pathlib import Path

from common.config import UsageError

NUMBER = (int, float)
TEXT_OR_NUMBER = (str, int, float, type(None))


def _fail(path: Path, what: str):
    raise UsageError(f"{path}: {what}")


def _expect(path: Path, value, kinds, where: str, wanted: str) -> None:
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _tuple(kinds)):
        _fail(path, f"{where} is {_shown_type(value)}, not {wanted}")


def _tuple(kinds) -> tuple:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _shown_type(value) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null",
             int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def check_config(path: Path, data) -> None:
    """config.json: an object; in the current layout (it has "experiment" and a "config"
    object) the preset is text or null and the overrides an object or null."""
    _expect(path, data, dict, "the file", "a JSON object")
    if not (isinstance(data.get("config"), dict) and "experiment" in data):
        return  # the older layout: the config alone
    _expect(path, data["experiment"], str, '"experiment"', "text")
    _expect(path, data.get("preset"), (str, type(None)), '"preset"', "text or null")
    _expect(path, data.get("overrides"), (dict, type(None)), '"overrides"', "an object or null")


def check_results(path: Path, data) -> None:
    """results.json: an object naming its experiment, with claims, scalars, tables,
    notes and seconds of the documented types where present."""
    _expect(path, data, dict, "the file", "a JSON object")
    _expect(path, data.get("experiment"), str, '"experiment"', "text naming the experiment")
    for key in ("seconds", "compile_seconds"):
        _expect(path, data.get(key), (*NUMBER, type(None)), f'"{key}"', "a number or null")
    _expect(path, data.get("claims", []), list, '"claims"', "a list")
    for index, claim in enumerate(data.get("claims", [])):
        check_claim(path, claim, f"claim {index + 1}")
    _expect(path, data.get("scalars", {}), dict, '"scalars"', "an object")
    for name, value in data.get("scalars", {}).items():
        _expect(path, value, (*NUMBER, bool, type(None)), f'scalar "{name}"', "a number or null")
    _expect(path, data.get("tables", {}), dict, '"tables"', "an object")
    for name, rows in data.get("tables", {}).items():
        _expect(path, rows, list, f'table "{name}"', "a list of rows")
        for row in rows:
            _expect(path, row, dict, f'a row of table "{name}"', "an object")
    _expect(path, data.get("notes", []), list, '"notes"', "a list")
    for note in data.get("notes", []):
        _expect(path, note, str, "a note", "text")


def check_claim(path: Path, claim, where: str) -> None:
    """One claim outcome: its statement and verdict as text, its value a number or null,
    its interval null or [lo, hi], its control an object; the other fields plain values."""
    _expect(path, claim, dict, where, "an object")
    for key in ("statement", "verdict"):
        if key not in claim:
            _fail(path, f'{where} has no "{key}"')
        _expect(path, claim[key], str, f'{where}\'s "{key}"', "text")
    _expect(path, claim.get("value"), (*NUMBER, type(None)), f'{where}\'s "value"', "a number or null")
    check_interval(path, claim.get("interval"), f'{where}\'s "interval"')
    for key in ("paper", "measured", "region", "how", "note"):
        _expect(path, claim.get(key), TEXT_OR_NUMBER, f'{where}\'s "{key}"', "text")
    control = claim.get("control")
    _expect(path, control, (dict, type(None)), f'{where}\'s "control"', "an object or null")
    if control:
        _expect(path, control.get("name"), TEXT_OR_NUMBER, f'{where}\'s control name', "text")
        _expect(path, control.get("value"), (*NUMBER, type(None)), f'{where}\'s control value', "a number or null")
        _expect(path, control.get("verdict"), TEXT_OR_NUMBER, f'{where}\'s control verdict', "text")
        check_interval(path, control.get("interval"), f'{where}\'s control interval')


def check_interval(path: Path, interval, where: str) -> None:
    """null (exact) or [lo, hi] with each end a number or null (unbounded)."""
    if interval is None:
        return
    _expect(path, interval, list, where, "[lo, hi]")
    if len(interval) != 2:
        _fail(path, f"{where} has {len(interval)} values, not [lo, hi]")
    for end in interval:
        _expect(path, end, (*NUMBER, type(None)), f"{where}'s ends", "numbers or null")


def check_env(path: Path, data) -> None:
    """env.json: an object; its devices, where recorded, a list."""
    _expect(path, data, dict, "the file", "a JSON object")
    _expect(path, data.get("devices", []), list, '"devices"', "a list")
