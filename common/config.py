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
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import tyro


class UsageError(Exception):
    """Bad command-line input: the message is one line for the user."""


@dataclass(frozen=True)
class RunOptions:
    preset: str
    out: Path | None
    data_dir: Path | None
    resume: bool
    tensorboard: bool


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
    return parser


SHARED_HELP = """options shared by every experiment:
  --preset {%s}   named config to start from (default quick)
  --out DIR             run folder (default runs/<experiment>/<timestamp>)
  --data-dir DIR        folder with MNIST / Fashion-MNIST IDX .gz or CIFAR-10 binary files
  --resume              continue the newest unfinished run with the same config
  --tensorboard         also write the metrics as TensorBoard events to <run>/tensorboard/
                        (needs pip install -e '.[tensorboard]')"""


def parse(module, argv: list[str]):
    """(config, RunOptions) from the arguments after the experiment's name."""
    presets = list(module.PRESETS)
    options, rest = shared_options(presets).parse_known_args(argv)
    if options.resume is False:
        require_fresh_out(options.out)
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
        raise UsageError(_one_line(captured.getvalue())) from None
    except ValueError as error:  # the Config's own validation (__post_init__)
        raise UsageError(f"invalid value: {error}") from None
    return config, RunOptions(options.preset, options.out, options.data_dir, options.resume, options.tensorboard)


def require_fresh_out(out: Path | None) -> None:
    if out is not None and (Path(out) / "results.json").exists():
        raise UsageError(f"--out {out} already holds a finished run; choose another folder")


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


def require_at_least_one(config, fields) -> None:
    """Config validation shared by the experiments: counts and sizes >= 1."""
    for field in fields:
        if getattr(config, field) < 1:
            raise ValueError(f"{field} must be at least 1 (got {getattr(config, field)})")


def require_positive(config, fields) -> None:
    """Config validation shared by the experiments: rates and scales > 0 (NaN fails)."""
    for field in fields:
        if not getattr(config, field) > 0:
            raise ValueError(f"{field} must be positive (got {getattr(config, field)})")
