"""The command line of an experiment, generated from its Config dataclass by
tyro, with the options every experiment shares parsed first.

Every error becomes a `UsageError` carrying one line; run.py prints it and
exits with code 2.
"""

import argparse
import contextlib
import io
import re
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


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def shared_options(presets: list[str]) -> _Parser:
    parser = _Parser(add_help=False)
    parser.add_argument("--preset", choices=presets, default="quick")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--resume", action="store_true")
    return parser


SHARED_HELP = """options shared by every experiment:
  --preset {%s}   named config to start from (default quick)
  --out DIR             run folder (default runs/<experiment>/<timestamp>)
  --data-dir DIR        folder with MNIST / Fashion-MNIST IDX .gz or CIFAR-10 binary files
  --resume              continue the newest unfinished run with the same config"""


def parse(module, argv: list[str]):
    """(config, RunOptions) from the arguments after the experiment's name."""
    presets = list(module.PRESETS)
    options, rest = shared_options(presets).parse_known_args(argv)
    if options.out is not None and options.resume is False and (options.out / "results.json").exists():
        raise UsageError(f"--out {options.out} already holds a finished run; choose another folder")
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
    return config, RunOptions(options.preset, options.out, options.data_dir, options.resume)


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
