"""XLA flags this project sets before JAX starts its backend.

`--xla_llvm_disable_expensive_passes=true` skips LLVM's most expensive
optimization passes when XLA:CPU compiles a program. On the 2-core development
CPU it cut bbb-classify's cold quick run from 80.5 s to 70.5 s with every
scalar and claim of results.json bit for bit the same (scripts/first_run_bench.py
compares whole `all` runs; docs/first_run.md). Lower LLVM optimization levels
(--xla_backend_optimization_level=1 or 0) compile faster still but change the
numbers of chaotic trainings, so they are not used.

A flag the user already put in XLA_FLAGS is left as they set it."""

import os

FLAGS = {"--xla_llvm_disable_expensive_passes": "true"}


def set_compile_flags(environ=os.environ) -> None:
    """Add FLAGS to XLA_FLAGS where the user has not set them (call before the first JAX computation)."""
    given = environ.get("XLA_FLAGS", "")
    missing = [f"{name}={value}" for name, value in FLAGS.items() if name not in given]
    if missing:
        environ["XLA_FLAGS"] = " ".join(filter(None, [given, *missing]))
