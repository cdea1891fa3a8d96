"""docs/autodiff_tool.md's "Against what JAX gives you" quotes docs/autodiff_builtins.py: the
numbers it prints must be the ones the section quotes."""

import contextlib
import io
from pathlib import Path

from docs import autodiff_builtins

SECTION = (Path(__file__).parent.parent / "docs" / "autodiff_tool.md").read_text()


def test_builtins_print_what_the_docs_quote():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        autodiff_builtins.main()
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("f: cost_analysis flops 10.58 MFLOP")
    assert lines[-1] == "residuals in total (the leaves of jax.vjp's pullback): 26.20 MiB"
    for line in lines:
        quoted = line.replace(str(Path(__file__).parent.parent), "...")
        assert quoted in SECTION, line
