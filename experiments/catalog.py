"""experiments/catalog.json: what `run.py list` and `run.py EXP --help` show,
read without importing JAX or any experiment module.

The file is generated from the experiment modules (NAME, STUDY, PAPER,
REPRODUCES, the Config and its field docstrings, PRESETS) and committed.
Beside it, experiments/timings.json holds each experiment's measured quick-preset
seconds, cold and warm (written by `python scripts/first_run_bench.py --write`). Regenerate it after adding an experiment or changing a Config, a
preset or a field's docstring (tests/test_catalog.py fails until you do):

    python -m experiments.catalog --write     # rewrite the file
    python -m experiments.catalog --check     # exit 1 if it is stale
"""

import ast
import dataclasses
import inspect
import json
import sys
import textwrap
import types
import typing
from dataclasses import dataclass
from pathlib import Path

CATALOG = Path(__file__).with_name("catalog.json")
TIMINGS = Path(__file__).with_name("timings.json")
UNTIMED_SECONDS = 30.0  # what `run.py all` expects of an experiment timings.json does not list
REGENERATE = "python -m experiments.catalog --write"


@dataclass(frozen=True)
class Option:
    """One Config field: its type as text, its docstring, its value in each preset
    (JSON values: tuples are lists)."""

    name: str
    type: str
    help: str
    values: dict

    @property
    def flag(self) -> str:
        return f"--{self.name.replace('_', '-')}"


@dataclass(frozen=True)
class Entry:
    """One experiment, as the command line describes it."""

    name: str
    module: str
    study: str
    paper: str
    reproduces: str
    config_doc: str
    presets: tuple[str, ...]
    options: tuple[Option, ...]
    in_all: bool = True  # False: `run.py all` leaves it out (it runs alone: its module's IN_ALL says why)
    member_fields: tuple[str, ...] = ()  # fields whose --sweep points train as members of one program

    def preset_changes(self) -> dict[str, dict[str, object]]:
        """For each preset but quick, the fields whose values differ from quick's: name -> value."""
        return {preset: {o.name: o.values[preset] for o in self.options if o.values[preset] != o.values["quick"]}
                for preset in self.presets if preset != "quick"}


def entries(path: Path = CATALOG) -> dict[str, Entry]:
    """The catalog's experiments by name, in registry order."""
    records = json.loads(path.read_text())["experiments"]
    return {r["name"]: Entry(**{**r, "presets": tuple(r["presets"]), "member_fields": tuple(r.get("member_fields", ())),
                                "options": tuple(Option(**o) for o in r["options"])}) for r in records}


@dataclass(frozen=True)
class QuickTiming:
    """An experiment's quick preset as `scripts/first_run_bench.py` measured it: wall seconds
    and the part spent compiling, with an empty compilation cache (cold) and a filled one (warm)."""

    cold: float
    cold_compile: float
    warm: float | None  # None: not measured warm
    warm_compile: float | None

    def describe(self) -> str:
        warm = f", ~{self.warm:.0f} s warm" if self.warm is not None else ""
        return f"~{self.cold:.0f} s cold ({self.cold_compile:.0f} s compiling){warm}"


def quick_timings(path: Path = TIMINGS) -> dict[str, QuickTiming]:
    """The measured quick-preset seconds by experiment ({} before the first measurement)."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    cold, warm = data.get("cold", {}), data.get("warm", {})
    return {name: QuickTiming(c["seconds"], c["compile_seconds"], warm.get(name, {}).get("seconds"),
                              warm.get(name, {}).get("compile_seconds")) for name, c in cold.items()}


def build() -> dict:
    """The catalog's content from the live experiment modules (this imports them, and JAX)."""
    import experiments

    return {"generated_by": REGENERATE, "experiments": [_record(m) for m in experiments.all_experiments().values()]}


def _record(module) -> dict:
    config_doc, field_docs = docstrings(module.Config)
    hints = typing.get_type_hints(module.Config)
    options = [{"name": f.name, "type": type_text(hints[f.name]), "help": field_docs.get(f.name, ""),
                "values": {preset: getattr(config, f.name) for preset, config in module.PRESETS.items()}}
               for f in dataclasses.fields(module.Config)]
    return {"name": module.NAME, "module": module.__name__, "study": module.STUDY, "paper": module.PAPER,
            "reproduces": module.REPRODUCES, "config_doc": config_doc,
            "presets": list(module.PRESETS), "options": options, "in_all": getattr(module, "IN_ALL", True),
            "member_fields": list(getattr(module, "MEMBER_FIELDS", ()))}


def docstrings(config_type) -> tuple[str, dict[str, str]]:
    """The class docstring and each field's: the string literal right under the
    field in the class body (where tyro reads a field's help too)."""
    node = ast.parse(textwrap.dedent(inspect.getsource(config_type))).body[0]
    fields = {}
    for statement, following in zip(node.body, node.body[1:]):
        if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            fields[statement.target.id] = inspect.cleandoc(following.value.value)
    return ast.get_docstring(node) or "", fields


def type_text(hint) -> str:
    """A field type as text: int, tuple[int, ...], float | None, Literal['a', 'b']."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_text(a) for a in args)
    if origin is tuple:
        return f"tuple[{', '.join('...' if a is Ellipsis else type_text(a) for a in args)}]"
    return "None" if hint is type(None) else getattr(hint, "__name__", str(hint))


def text(content: dict) -> str:
    """The file's text: one layout, so that --check can compare text."""
    return json.dumps(content, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if argv not in (["--write"], ["--check"]):
        print("usage: python -m experiments.catalog --write | --check", file=sys.stderr)
        return 2
    current = text(build())
    if argv == ["--write"]:
        CATALOG.write_text(current)
        print(f"wrote {CATALOG}")
        return 0
    if not CATALOG.exists() or CATALOG.read_text() != current:
        print(f"{CATALOG} is stale: run {REGENERATE}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
