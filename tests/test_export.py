"""run.py export and experiments.table: a row per claim (or scalar) per finished run, the
same rows whatever the format; bad input is one line on stderr with exit 2 and nothing written."""

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import experiments
import run
from common.config import UsageError

TINY = {"max_depth": 2, "widths": (2,), "seeds": 1, "input_counts": (8, 16), "harness_inputs": (2,)}
CLAIM_COLUMNS = ["experiment", "run", "preset", "max_depth", "statement", "value", "interval_low",
                 "interval_high", "verdict", "control"]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """Two tiny ad-graph runs (the README's tiny command) that differ in max_depth, one nested deeper."""
    root = tmp_path_factory.mktemp("runs")
    experiments.run("ad-graph", out=root / "a", compilation_cache=False, **TINY)
    experiments.run("ad-graph", out=root / "nested" / "b", compilation_cache=False, **{**TINY, "max_depth": 3})
    return root


def exported(argv: list[str], capsys) -> str:
    assert run.main(["export", *argv]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def one_error_line(capsys, expect: str) -> None:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], captured.err
    assert captured.out == ""


def test_table_has_a_row_per_claim_per_run_and_the_config_fields_that_differ(root):
    table = experiments.table(root)
    claims = len(json.loads((root / "a" / "results.json").read_text())["claims"])
    assert list(table.columns) == CLAIM_COLUMNS
    assert len(table) == 2 * claims
    assert set(table["run"]) == {str(root / "a"), str(root / "nested" / "b")}
    assert dict(zip(table["run"], table["max_depth"])) == {str(root / "a"): 2, str(root / "nested" / "b"): 3}
    assert set(table["experiment"]) == {"ad-graph"} and set(table["preset"]) == {"quick"}
    assert set(table["verdict"]) <= {"reproduced", "not reproduced", "inconclusive"}


def test_a_run_named_and_found_under_a_root_is_one_run(root):
    once = experiments.table(root)
    twice = experiments.table(root / "a", root, str(root / "nested" / "b"))
    assert len(twice) == len(once)
    alone = experiments.table(root / "a")
    assert "max_depth" not in alone.columns  # nothing differs within one run
    assert list(alone["run"].unique()) == [str(root / "a")]


def test_scalars_table(root):
    table = experiments.table(root / "a", what="scalars")
    scalars = json.loads((root / "a" / "results.json").read_text())["scalars"]
    assert list(table.columns) == ["experiment", "run", "preset", "name", "value"]
    assert list(table["name"]) == list(scalars)


def test_csv_and_json_read_back_as_the_table(root, tmp_path, capsys):
    for what in ("claims", "scalars"):
        table = experiments.table(root, what=what)
        csv = tmp_path / f"{what}.csv"
        assert exported([str(root), "--what", what, "--out", str(csv)], capsys) == f"wrote {csv}\n"
        from_csv = pd.read_csv(csv, keep_default_na=False, na_values=[""])
        pd.testing.assert_frame_equal(from_csv, table, check_dtype=False)
        text = exported([str(root), "--what", what, "--format", "json"], capsys)
        from_json = pd.read_json(io.StringIO(text), orient="records")
        pd.testing.assert_frame_equal(from_json, table, check_dtype=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv", "scalars.csv"]  # no temporary file left
    assert exported([str(root)], capsys) == (tmp_path / "claims.csv").read_text()  # CSV to stdout by default


def test_latex_is_a_tabular(root, tmp_path, capsys):
    out = tmp_path / "claims.tex"
    exported([str(root), "--format", "latex", "--out", str(out)], capsys)
    tex = out.read_text()
    assert tex.startswith("\\begin{tabular}") and tex.rstrip().endswith("\\end{tabular}")
    assert "interval\\_low" in tex  # special characters escaped


def test_runs_of_two_experiments_in_one_table(root, tmp_path):
    other = tmp_path / "bbb"
    other.mkdir()
    (other / "config.json").write_text(json.dumps(
        {"experiment": "bbb-variance", "preset": "quick", "overrides": {}, "config": {"seeds": 3}}))
    claim = {"statement": "s", "verdict": "inconclusive", "value": 0.5, "interval": [0.25, None]}
    (other / "results.json").write_text(json.dumps({"experiment": "bbb-variance", "claims": [claim]}))
    table = experiments.table(root, other)
    row = table[table["experiment"] == "bbb-variance"].iloc[0]
    assert pd.isna(row["max_depth"])  # a field that differs only among ad-graph's runs
    assert (row["value"], row["interval_low"], row["interval_high"]) == (0.5, 0.25, float("inf"))


def test_an_unreadable_run_under_a_root_is_named_and_passed_over(root, tmp_path, capsys):
    shutil.copytree(root / "a", tmp_path / "good")
    shutil.copytree(root / "a", tmp_path / "bad")
    (tmp_path / "bad" / "results.json").write_text("{")
    assert run.main(["export", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith(f"skipped {tmp_path / 'bad'}: ") and len(captured.err.splitlines()) == 1
    assert set(pd.read_csv(io.StringIO(captured.out))["run"]) == {str(tmp_path / "good")}


@pytest.mark.parametrize("argv,expect", [
    (["{a}", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["{a}", "--what", "tables"], "argument --what: invalid choice: 'tables'"),
    (["{tmp}/absent"], "absent does not exist, so neither a run folder nor a folder of runs"),
    (["{a}/report.md"], "report.md is not a folder, so neither a run folder nor a folder of runs"),
    (["{tmp}/empty"], "no finished, readable runs under"),
    (["{a}", "--out", "{tmp}/empty"], "something other than a file is there"),
    (["{a}", "--out", "{tmp}/missing/claims.csv"], "cannot write"),
    ([], "the following arguments are required: RUN_OR_ROOT"),
])
def test_bad_input_is_one_line_and_exit_2(argv, expect, root, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    before = sorted(tmp_path.rglob("*"))
    assert run.main(["export", *(a.format(a=root / "a", tmp=tmp_path) for a in argv)]) == 2
    one_error_line(capsys, expect)
    assert sorted(tmp_path.rglob("*")) == before


def test_table_refuses_an_unknown_what(root):
    with pytest.raises(UsageError, match="what= must be one of claims, scalars"):
        experiments.table(root, what="tables")


def test_import_experiments_loads_no_pandas():
    code = "import sys, experiments; experiments.all_experiments; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "False", done.stderr
