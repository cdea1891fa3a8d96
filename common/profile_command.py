"""`python run.py profile module:function --args SPEC [SPEC ...]`: what the
derivatives of a function you bring cost (`research.autodiff.profile`: f, jvp,
vjp, grad, jacfwd and jacrev where the Jacobian fits the budget, the HVP where
f is scalar, under each remat policy), on inputs built from their shapes.

    python run.py profile docs.autodiff_tool_example:rnn_loss --args 'f32[64,64]' 'f32[16,64]' 'f32[32,16,16]' \
        --argnums 0,1 --budget 64MiB --format md

The function is `module:attribute`, the module imported by its dotted name from
the current directory or sys.path; nothing typed is evaluated. A SPEC is
`dtype[d1,d2,...]` (`f32[]`: a scalar), dtype one of f32 f64 bf16 f16 i32:
floats are drawn from a normal with a fixed seed, integers are zeros (f64
turns on JAX's 64-bit mode for the call). Bad input is one line and exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common.config import UsageError
from common.run_files import one_line

DTYPES = {"f32": "float32", "f64": "float64", "bf16": "bfloat16", "f16": "float16", "i32": "int32"}
SPEC = re.compile(r"(?P<dtype>\w+)\[(?P<dims>[^\]]*)\]")
DIMS = re.compile(r"\s*\d+\s*(,\s*\d+\s*)*")
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "KB": 10**3, "MB": 10**6, "GB": 10**9}
BUDGET = re.compile(r"(?P<number>\d+(\.\d+)?)\s*(?P<unit>[A-Za-z]*)")
TARGET = re.compile(r"(?P<module>[A-Za-z_]\w*(\.[A-Za-z_]\w*)*):(?P<attribute>[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)")
INPUT_SEED = 0


@dataclass(frozen=True)
class ArraySpec:
    text: str  # as typed, for messages
    dtype: str  # a DTYPES key
    shape: tuple[int, ...]

    @property
    def floating(self) -> bool:
        return self.dtype.startswith(("f", "bf"))


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"profile: {message}")


def parse_spec(text: str) -> ArraySpec:
    """`f32[128,256]` -> ArraySpec('f32', (128, 256)); `f32[]` is a scalar."""
    match = SPEC.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"profile: bad array spec {text!r}: write dtype[d1,d2,...], e.g. f32[128,256] or f32[]")
    if match["dtype"] not in DTYPES:
        raise UsageError(f"profile: unknown dtype {match['dtype']!r} in {text!r} (one of {' '.join(DTYPES)})")
    dims = match["dims"]
    if dims.strip() and not DIMS.fullmatch(dims):
        raise UsageError(f"profile: bad shape in {text!r}: dimensions are whole numbers separated by commas")
    shape = tuple(int(d) for d in dims.split(",")) if dims.strip() else ()
    if any(d == 0 for d in shape):
        raise UsageError(f"profile: {text!r} has a zero dimension: an empty array has no derivative to time")
    return ArraySpec(text, match["dtype"], shape)


def parse_budget(text: str) -> float:
    """`64MiB` -> bytes (units B KiB MiB GiB KB MB GB; a bare number is bytes)."""
    match = BUDGET.fullmatch(text.strip())
    unit = (match["unit"] or "B") if match else None
    if match is None or unit not in UNITS:
        raise UsageError(f"profile: bad --budget {text!r}: a number and a unit ({' '.join(UNITS)}), e.g. 64MiB")
    budget = float(match["number"]) * UNITS[unit]
    if budget <= 0:
        raise UsageError(f"profile: --budget must be positive (got {text!r})")
    return budget


def parse_argnums(text: str, count: int) -> tuple[int, ...]:
    """`0` -> (0,), `0,1` -> (0, 1), each within the `count` arguments and none twice."""
    if not re.fullmatch(r"\d+(,\d+)*", text.replace(" ", "")):
        raise UsageError(f"profile: bad --argnums {text!r}: argument positions separated by commas, e.g. 0,1")
    argnums = tuple(int(i) for i in text.replace(" ", "").split(","))
    if len(set(argnums)) != len(argnums):
        raise UsageError(f"profile: --argnums {text!r} names an argument twice")
    outside = [i for i in argnums if i >= count]
    if outside:
        raise UsageError(f"profile: --argnums {text!r}: position {outside[0]} is out of range for "
                         f"{count} argument(s) given by --args (positions 0 to {count - 1})")
    return argnums


def resolve(target: str) -> Callable:
    """The callable named `module:attribute` (dotted names allowed on both sides)."""
    match = TARGET.fullmatch(target)
    if match is None:
        raise UsageError(f"profile: name the function as module:function (e.g. docs.autodiff_tool_example:mlp_loss; "
                         f"got {target!r})")
    module_name, attribute = match["module"], match["attribute"]
    here = os.getcwd()
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name == error.name or module_name.startswith(error.name + ".")):
            raise UsageError(f"profile: no module named {module_name!r} in {here} or on sys.path") from None
        raise UsageError(f"profile: importing {module_name} failed: {one_line(error)}") from None
    except Exception as error:  # the user's module: whatever it raises is theirs to fix
        raise UsageError(f"profile: importing {module_name} raised {type(error).__name__}: {one_line(error)}") \
            from None
    finally:
        if added:
            sys.path.remove(here)
    found = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise UsageError(f"profile: module {module_name} has no attribute {attribute!r}")
        found = getattr(found, part)
    if not callable(found):
        raise UsageError(f"profile: {target} is a {type(found).__name__}, not a function")
    return found


def build_inputs(specs: list[ArraySpec]) -> list:
    """Normal draws (fixed seed) for floating specs, zeros for integer ones."""
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.key(INPUT_SEED), len(specs))
    return [jax.random.normal(k, s.shape, DTYPES[s.dtype]) if s.floating else jnp.zeros(s.shape, DTYPES[s.dtype])
            for k, s in zip(keys, specs)]


def check_call(f: Callable, target: str, specs: list[ArraySpec], inputs: list) -> None:
    """f runs (traced, nothing computed) on the inputs and returns floating-point arrays."""
    import jax
    import jax.numpy as jnp

    typed = " ".join(s.text for s in specs)
    try:
        output = jax.eval_shape(f, *inputs)
    except Exception as error:  # the user's function: whatever it raises is theirs to fix
        raise UsageError(f"profile: {target} raised {type(error).__name__} on {typed}: {one_line(error)}") from None
    leaves = jax.tree.leaves(output)
    if not leaves or not all(jnp.issubdtype(x.dtype, jnp.inexact) for x in leaves):
        raise UsageError(f"profile: {target} must return floating-point arrays to be differentiated "
                         f"(got {', '.join(str(x.dtype) for x in leaves) or 'no arrays'})")


def parse_policies(text: str) -> dict:
    """`none,dots_saveable` -> those entries of `research.autodiff.profile.POLICIES`; none is required."""
    from research.autodiff.profile import POLICIES

    names = [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise UsageError(f"profile: unknown policy {unknown[0]!r} in --policies (known: {','.join(POLICIES)})")
    if "none" not in names:
        raise UsageError("profile: --policies must include none, the reference without remat")
    return {name: POLICIES[name] for name in names}


def _positive_rounds(text: str) -> int:
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"must be a whole number, at least 2 (got {text!r})")
    return int(text)


def parser() -> _Parser:
    from research.autodiff.memory import DEFAULT_MEMORY_BUDGET
    from research.autodiff.profile import POLICIES
    from research.autodiff.profile_format import FORMATS

    p = _Parser(prog="run.py profile", description=(
        "What the derivatives of your function cost (time in interleaved rounds with an A/A interval, XLA and "
        "loop-aware FLOPs, residuals, temporaries and peak memory) under each remat policy, with advice. "
        "docs/autodiff_tool.md explains every column."))
    p.add_argument("target", metavar="module:function", help="e.g. docs.autodiff_tool_example:mlp_loss")
    p.add_argument("--args", nargs="+", required=True, metavar="SPEC",
                   help="one per argument: dtype[d1,d2,...] with dtype in f32 f64 bf16 f16 i32 (f32[] a scalar)")
    p.add_argument("--argnums", default="0", help="the differentiated arguments' positions, e.g. 0,1 (default 0)")
    p.add_argument("--budget", default=None, metavar="SIZE",
                   help=f"memory budget for grad's XLA peak and the Jacobians, e.g. 64MiB (default "
                        f"{DEFAULT_MEMORY_BUDGET // 2**20} MiB)")
    p.add_argument("--format", choices=FORMATS, default="md", help="md (default), csv or json")
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="write there (whole) instead of stdout")
    p.add_argument("--policies", default=",".join(POLICIES), metavar="NAMES",
                   help=f"remat policies to compare, none among them (default {','.join(POLICIES)})")
    p.add_argument("--rounds", type=_positive_rounds, default=7, metavar="N", help="interleaved rounds (default 7)")
    return p


def profile_command(argv: list[str]) -> int:
    options = parser().parse_args(argv)
    specs = [parse_spec(text) for text in options.args]
    budget = None if options.budget is None else parse_budget(options.budget)
    argnums = parse_argnums(options.argnums, len(specs))
    policies = parse_policies(options.policies)
    integer = [specs[i].text for i in argnums if not specs[i].floating]
    if integer:
        raise UsageError(f"profile: --argnums names {integer[0]}: only floating-point arguments are differentiated")
    if options.out is not None and (options.out.is_dir() or not options.out.parent.is_dir()):
        raise UsageError(f"profile: cannot write {options.out}: not a file in an existing folder")
    f = resolve(options.target)

    import jax

    from common.whole_file import print_or_write
    from research.autodiff.profile import profile
    from research.autodiff.profile_format import render

    with jax.enable_x64(True) if any(s.dtype == "f64" for s in specs) else contextlib.nullcontext():
        inputs = build_inputs(specs)
        check_call(f, options.target, specs, inputs)
        try:
            report = profile(f, *inputs, argnums=argnums, policies=policies, memory_budget=budget,
                             rounds=options.rounds)
        except (TypeError, ValueError, NotImplementedError) as error:  # JAX's errors for what it cannot differentiate
            raise UsageError(f"profile: differentiating {options.target} failed: {type(error).__name__}: "
                             f"{one_line(error)}") from None
    text = render(report, options.format)
    print_or_write(text, options.out)
    return 0
