"""The command line of an experiment, generated from its Config dataclass by
tyro, with the options every experiment shares parsed first.

Every error becomes a `UsageError` carrying one line; run.py prints it and
exits with code 2.
"""

import argparse
import contextlib
import dataclasses
import difflib
import io
import math
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path


class UsageError(ValueError):
    """Bad input (command line, Python API, or a run folder read back): the message
    is one line for the user. A ValueError, so Python callers can catch it as one."""


@dataclass(frozen=True)
class RunOptions:
    preset: str
    out: Path | None
    data_dir: Path | None
    resume: bool
    tensorboard: bool
    figure_formats: tuple[str, ...] = ("png",)
    sweeps: tuple[str, ...] = ()  # each "field=v1,v2,..." (common.sweep)
    launcher: typing.Any = None  # a common.sweep_launch.Launcher, or None: the points run here
    sweep_mode: str = "members"  # one of SWEEP_MODES (common.sweep)


SWEEP_MODES = ("members", "runs")  # batched points as members of one program, or a program per point
FIGURE_FORMATS = ("png", "pdf", "svg")  # PNG always (the reports embed it); PDF and SVG are vector, for a paper


def figure_formats(text: str) -> tuple[str, ...]:
    """`png,pdf` -> ("png", "pdf"): the formats each figure is saved in, PNG first and always
    (an argparse type: its error keeps the message)."""
    chosen = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in FIGURE_FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown) or repr(text)} is not a figure format: choose from "
                                         f"{', '.join(FIGURE_FORMATS)}, comma-separated")
    return tuple(dict.fromkeys(["png", *chosen]))


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def shared_options(presets: list[str]) -> _Parser:
    parser = _Parser(add_help=False)
    parser.add_argument("--preset", choices=presets, default="quick")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--tensorboard", action="store_true")
    parser.add_argument("--figure-format", type=figure_formats, default=("png",), dest="figure_formats")
    parser.add_argument("--sweep", action="append", default=[], dest="sweeps")
    parser.add_argument("--sweep-mode", choices=SWEEP_MODES, default=None)
    parser.add_argument("--launcher", choices=("slurm", "local"), default=None)
    parser.add_argument("--points-per-job", type=int, default=1)
    parser.add_argument("--partition", default=None)
    parser.add_argument("--timeout-min", type=int, default=60)
    return parser


SHARED_HELP = """options shared by every experiment:
  --preset {%s}   named config to start from (default quick)
  --out DIR             run folder (default runs/<experiment>/<timestamp>)
  --data-dir DIR        folder with MNIST / Fashion-MNIST IDX .gz or CIFAR-10 binary files
  --resume              continue the newest unfinished run with the same config
  --tensorboard         also write the metrics as TensorBoard events to <run>/tensorboard/
                        (needs pip install -e '.[tensorboard]')
  --figure-format png,pdf,svg
                        save each figure in these formats too (default png; the reports show the PNG)
  --sweep FIELD=v1,v2,...
                        run every value of a numeric or choice field (repeat for a grid), each point a run
                        folder under one sweep folder with sweep.md and a figure per claim
  --sweep-mode {members,runs}
                        members (default): points that differ only in the experiment's member fields
                        (--help names them) train as members of one compiled program; runs: a program
                        per point, one after another (as fast on a 2-core CPU: docs/benchmarks.md)
  --launcher {slurm,local} [--points-per-job N] [--partition P] [--timeout-min M]
                        with --sweep: each group of N points (default 1) a job of its own, sent by
                        submitit (pip install -e '.[cluster]'); default: the points run here. A job's
                        points that differ only in member fields train as members of one program"""


def parse(module, argv: list[str]):
    """(config, RunOptions) from the arguments after the experiment's name."""
    import tyro  # here: run.py list and --help import this module (UsageError, SHARED_HELP), not tyro

    presets = list(module.PRESETS)
    options, rest = shared_options(presets).parse_known_args(argv)
    if options.tensorboard:
        require_tensorboard()
    default = module.PRESETS[options.preset]
    description = f"{module.NAME}: {module.REPRODUCES}\n\n{SHARED_HELP % ','.join(presets)}"
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            config = tyro.cli(
                type(default), default=default, args=rest, prog=f"run.py {module.NAME}",
                description=description,
            )
    except SystemExit as exit_:
        if exit_.code in (0, None):
            print(captured.getvalue(), end="")
            raise
        raise UsageError(_with_hint(_one_line(captured.getvalue()), rest, type(default))) from None
    except ValueError as error:  # the Config's own validation (__post_init__)
        raise UsageError(f"invalid value: {error}") from None
    refuse_unused(config, default)
    return config, RunOptions(options.preset, options.out, options.data_dir, options.resume, options.tensorboard,
                              options.figure_formats, tuple(options.sweeps), _launcher(options), _sweep_mode(options))


def _sweep_mode(options) -> str:
    """--sweep-mode (members by default); it goes with --sweep."""
    if options.sweep_mode is not None and not options.sweeps:
        raise UsageError("--sweep-mode says how a sweep's points run: add --sweep FIELD=v1,v2,...")
    return options.sweep_mode or "members"


def _launcher(options):
    """The --launcher options as a Launcher (None without --launcher); they need --sweep."""
    launching = (options.points_per_job, options.partition, options.timeout_min) != (1, None, 60)
    if options.launcher is None:
        if launching:
            raise UsageError("--points-per-job, --partition and --timeout-min go with --launcher")
        return None
    if not options.sweeps:
        raise UsageError("--launcher sends the points of a sweep: add --sweep FIELD=v1,v2,...")
    from common.sweep_launch import Launcher

    return Launcher(options.launcher, options.points_per_job, options.partition, options.timeout_min)


def require_tensorboard() -> None:
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise UsageError("--tensorboard needs the tensorboard extra: pip install -e '.[tensorboard]'") from None


def with_overrides(module, preset: str, overrides: dict):
    """The Python API's config: `module.PRESETS[preset]` with `overrides` (field
    name -> value) checked against the Config's field types, then validated by
    its `__post_init__`. Bad input is a one-line UsageError, as on the command line."""
    if preset not in module.PRESETS:
        raise UsageError(f"{module.NAME} has no preset '{preset}' (presets: {', '.join(module.PRESETS)})")
    default = module.PRESETS[preset]
    hints = typing.get_type_hints(type(default))
    fields = [f.name for f in dataclasses.fields(default)]
    for name in overrides:
        if name not in fields:
            close = difflib.get_close_matches(name, fields, n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise UsageError(f"{module.NAME} has no option '{name}'{hint} (options: {', '.join(fields)})")
    checked = {name: conform(value, hints[name], name) for name, value in overrides.items()}
    try:
        return dataclasses.replace(default, **checked)
    except ValueError as error:  # the Config's own validation (__post_init__)
        raise UsageError(f"invalid value: {error}") from None


def config_from_dict(config_type, values: dict):
    """A Config from its config.json dict: JSON lists back to tuples, by the field types."""
    hints = typing.get_type_hints(config_type)
    names = {f.name for f in dataclasses.fields(config_type)}
    return config_type(**{k: conform(v, hints[k], k) for k, v in values.items() if k in names})


def conform(value, hint, name: str):
    """`value` as the type `hint` asks (ints widen to float, lists become
    tuples); a UsageError naming the field when it does not fit."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        if value in args:
            return value
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            try:
                return conform(value, arg, name)
            except UsageError:
                pass
    elif origin is tuple and isinstance(value, (list, tuple)):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(conform(v, args[0], name) for v in value)
        if len(args) == len(value):
            return tuple(conform(v, a, name) for v, a in zip(value, args))
    elif hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    elif hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif hint is type(None) and value is None:
        return value
    elif hint in (bool, str) and isinstance(value, hint):
        return value
    elif origin is None and hint not in (float, int, bool, str, type(None)):
        return value  # a type this check does not know: left to __post_init__
    expected = getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
    raise UsageError(f"invalid value for {name}: {value!r} is not {expected}")


def _one_line(tyro_message: str) -> str:
    """Condense tyro's boxed error into one line."""
    lines = [line.strip(" │╭╮╰╯─") for line in tyro_message.splitlines()]
    lines = [line for line in lines if line.strip("-") and not line.startswith("For full helptext")]
    if not lines:
        return "invalid arguments"
    title, body = lines[0], lines[1:]
    hint = ""
    if "Perhaps you meant:" in body:
        at = body.index("Perhaps you meant:")
        suggestions = [b.split()[0] for b in body[at + 1:] if b.startswith("--")]
        body = body[:at]
        hint = f" (did you mean {', '.join(suggestions[:3])}?)" if suggestions else ""
    if "Argument helptext:" in body:
        body = body[:body.index("Argument helptext:")]
    detail = " ".join(body)
    config_error = re.match(r"Error parsing [A-Za-z_]\w*: (.*)", detail)  # Config.__post_init__
    if config_error:
        return f"invalid value: {config_error.group(1)}"
    if detail.startswith(title):
        return detail + hint
    return f"{title}: {detail}{hint}" if detail else f"{title}{hint}"


def _with_hint(message: str, args: list[str], config_type) -> str:
    """An unknown option without tyro's "did you mean": suggest the fields it abbreviates
    (`--lr` -> `--learning-rate`: the initials of the words) or contains (`--rate`)."""
    if "did you mean" in message or not message.startswith("Unrecognized options"):
        return message
    fields = [f.name for f in dataclasses.fields(config_type)]
    hints = []
    for arg in args:
        if not arg.startswith("--"):
            continue
        given = arg[2:].split("=")[0].replace("-", "_")
        hints += [f for f in fields if f not in hints and given not in fields
                  and (given == "".join(word[0] for word in f.split("_")) or (len(given) > 2 and given in f))]
    return f"{message} (did you mean {', '.join('--' + h.replace('_', '-') for h in hints[:3])}?)" if hints else message


INT32_MAX = 2**31 - 1


def require_numbers_representable(config) -> None:
    """Every Config's first check: ints (alone or in tuples) fit in an int32, the
    type the compiled programs count steps and sizes in; floats are finite (an
    infinite or NaN rate, scale or weight trains nothing); `seed` is at least 0
    (numpy's generators refuse negative seeds)."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, bool):
                continue
            if isinstance(item, int) and not -INT32_MAX - 1 <= item <= INT32_MAX:
                raise ValueError(f"{field.name} must fit in an int32, {-INT32_MAX - 1}..{INT32_MAX} (got {value})")
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"{field.name} must be a finite number (got {value})")
    if getattr(config, "seed", 0) < 0:
        raise ValueError(f"seed must be at least 0 (got {config.seed})")


def require_at_least_one(config, fields) -> None:
    """Counts and sizes >= 1; a tuple field must be non-empty with every entry >= 1."""
    for field in fields:
        value = getattr(config, field)
        if isinstance(value, tuple):
            if not value:
                raise ValueError(f"{field} needs at least one value")
            if min(value) < 1:
                raise ValueError(f"{field} must be at least 1 each (got {value})")
        elif value < 1:
            raise ValueError(f"{field} must be at least 1 (got {value})")


def require_positive(config, fields) -> None:
    """Rates and scales > 0 (NaN fails); a tuple field must be non-empty, every entry > 0."""
    for field in fields:
        value = getattr(config, field)
        values = value if isinstance(value, tuple) else (value,)
        if not values:
            raise ValueError(f"{field} needs at least one value")
        if not all(v > 0 for v in values):
            raise ValueError(f"{field} must be positive (got {value})")


def require_non_negative(config, fields) -> None:
    """Weights, decays and penalties >= 0 (0 turns the term off; NaN fails)."""
    for field in fields:
        if not getattr(config, field) >= 0:
            raise ValueError(f"{field} must be at least 0 (got {getattr(config, field)})")


def require_in_range(config, fields, low: float, high: float, *, open_low=False, open_high=False) -> None:
    """Fractions, probabilities and weights within [low, high]; `open_low` / `open_high`
    exclude an end. A tuple field must be non-empty, every entry in range (NaN fails)."""
    shown = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
    for field in fields:
        value = getattr(config, field)
        values = value if isinstance(value, tuple) else (value,)
        inside = [(low < v if open_low else low <= v) and (v < high if open_high else v <= high) for v in values]
        if not values:
            raise ValueError(f"{field} needs at least one value")
        if not all(inside):
            raise ValueError(f"{field} must be in {shown} (got {value})")


def require_distinct(config, fields) -> None:
    """Tuple fields that name fits, rows or figure curves: a repeated entry would
    train or measure the same thing twice under one name."""
    for field in fields:
        value = getattr(config, field)
        if len(set(value)) != len(value):
            raise ValueError(f"{field} repeats a value (got {value})")


def refuse_unused(config, preset) -> None:
    """Options that do nothing in the chosen setting are an error, not silently ignored.

    A Config may define `unused_fields() -> {field: why}`, the fields its other
    values make inert; a field counts as given when it differs from `preset`.
    """
    unused = config.unused_fields() if hasattr(config, "unused_fields") else {}
    for field, why in unused.items():
        if getattr(config, field) != getattr(preset, field):
            raise UsageError(f"--{field.replace('_', '-')} does nothing here: {why}")
