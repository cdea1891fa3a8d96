"""experiments/catalog.json: current with the experiment modules, and enough for
`run.py list`, `run.py EXP --help` and an unknown name without importing JAX
or any experiment module."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import run
from experiments import catalog

ROOT = Path(__file__).resolve().parents[1]

# Runs run.main(ARGV) in a fresh interpreter, then prints the exit code and the
# heavy or experiment modules it imported, as JSON on the last line.
CHILD = """
import json, sys
sys.path.insert(0, {root!r})
import run
code = run.main({argv!r})
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("jax", "flax", "optax")
               or (m.startswith("experiments.") and m != "experiments.catalog"))
print(json.dumps({{"code": code, "heavy": heavy}}))
"""


def test_the_committed_catalog_is_current():
    current = catalog.CATALOG.read_text() == catalog.text(catalog.build())
    assert current, (f"experiments/catalog.json is stale (an experiment, Config, preset or field docstring "
                     f"changed): run {catalog.REGENERATE}")


def test_every_option_has_a_help_line():
    """A Config field's docstring is its option's help line: none may be left without one."""
    missing = [f"{name} --{option.name.replace('_', '-')}" for name, entry in catalog.entries().items()
               for option in entry.options if not option.help.strip()]
    assert not missing, f"options without a help line (add a docstring under the Config field): {missing}"


@pytest.mark.parametrize("argv, code", [
    (["list"], 0),
    (["ad-graph", "--help"], 0),
    (["list", "--presets"], 0),
    (["no-such-exp"], 2),
])
def test_list_help_and_unknown_names_import_no_jax_and_no_experiment(argv, code, tmp_path):
    child = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), argv=argv)], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.splitlines()[-1])
    assert result == {"code": code, "heavy": []}, child.stderr


def test_help_names_every_config_field_as_an_option(capsys):
    entry = catalog.entries()["ad-graph"]
    assert run.main(["ad-graph", "-h"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: run.py ad-graph") and f"run.py ad-graph: {entry.reproduces}" in out
    assert "--preset {quick,paper}" in out and "--resume" in out
    for option in entry.options:
        assert f"\n  {option.flag} {option.type}" in out, option.name
    depth = next(o for o in entry.options if o.name == "max_depth")
    assert f"(default: {depth.values['quick']}; paper: {depth.values['paper']})" in out


def test_list_presets_shows_what_each_preset_changes_from_quick(capsys):
    assert run.main(["list", "--presets"]) == 0
    out = capsys.readouterr().out
    entry = catalog.entries()["ad-graph"]
    changed = entry.preset_changes()["paper"]
    lines = out.splitlines()
    line = lines[next(i for i, line in enumerate(lines) if line.startswith("ad-graph ")) + 3].strip()
    assert line.startswith("preset paper: ") and changed, line
    assert all(f"--{name.replace('_', '-')} " in line for name in changed), line
    assert "preset quick:" not in out


def test_measured_timings_are_read_cold_and_warm(tmp_path):
    import json

    from experiments.catalog import quick_timings

    path = tmp_path / "timings.json"
    path.write_text(json.dumps({"cold": {"a": {"seconds": 40.0, "compile_seconds": 30.0},
                                         "b": {"seconds": 10.0, "compile_seconds": 5.0}},
                                "warm": {"a": {"seconds": 12.0, "compile_seconds": 1.0}}}))
    timings = quick_timings(path)
    assert timings["a"].describe() == "~40 s cold (30 s compiling), ~12 s warm"
    assert timings["b"].describe() == "~10 s cold (5 s compiling)"
    assert quick_timings(tmp_path / "absent.json") == {}


def test_all_leaves_out_the_experiments_that_run_alone(tmp_path, capsys):
    """bbb-hmc's NUTS chains converge only at its reference preset: `all` leaves it out and says so."""
    entries = catalog.entries()
    assert not entries["bbb-hmc"].in_all and all(e.in_all for name, e in entries.items() if name != "bbb-hmc")
    assert run.main(["list"]) == 0
    assert "(not in `all`: run it alone)" in capsys.readouterr().out
