"""`python run.py profile module:function --args ...`: a good call prints (or writes) the
profile as md, csv or json; every kind of bad input is one line on stderr and exit 2."""

import json
from pathlib import Path

import pytest

import run

ROOT = Path(__file__).resolve().parents[1]
TARGET = "docs.autodiff_tool_example:mlp_loss"
ARGS = ["f32[4,8]", "f32[8]", "f32[8,2]", "f32[2]", "f32[16,4]", "f32[16,2]"]  # w1 b1 w2 b2 x y
PARAMS = ["--argnums", "0,1,2,3"]


@pytest.fixture(autouse=True)
def at_the_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # where `docs` is importable as a namespace package


def test_markdown_profile_of_a_flax_mlp(capsys):
    assert run.main(["profile", TARGET, "--args", *ARGS, *PARAMS, "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "| policy | transform |" in out and "| none | hvp |" in out and "| dots_saveable | grad |" in out
    assert "| checkpoint_dots |" not in out and "checkpoint_dots is the same policy object" in out
    assert "Remat: within 256 MiB" in out and "Jacobian: use" in out


def test_csv_profile_with_a_budget_and_one_policy(capsys):
    assert run.main(["profile", TARGET, "--args", *ARGS, *PARAMS, "--policies", "none", "--budget", "64MiB",
                     "--format", "csv", "--rounds", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("policy,transform,seconds")
    assert [line.split(",")[1] for line in lines[1:]] == ["f", "jvp", "vjp", "grad", "jacfwd", "jacrev", "hvp"]


def test_json_profile_written_whole_to_a_file(capsys, tmp_path):
    out = tmp_path / "profile.json"
    assert run.main(["profile", TARGET, "--args", *ARGS, "--argnums", "4", "--policies", "none", "--format",
                     "json", "--out", str(out), "--rounds", "2"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    data = json.loads(out.read_text())
    assert data["inputs"] == 16 * 4 and data["outputs"] == 1 and len(data["rows"]) == 7
    assert [p.name for p in tmp_path.iterdir()] == ["profile.json"]  # no temporary file left


@pytest.mark.parametrize("argv,expect", [
    (["nocolon", "--args", "f32[3]"], "name the function as module:function"),
    (["no_such_module_xyz:f", "--args", "f32[3]"], "no module named 'no_such_module_xyz'"),
    (["docs.autodiff_tool_example:missing", "--args", "f32[3]"], "has no attribute 'missing'"),
    (["docs.autodiff_tool_example:__doc__", "--args", "f32[3]"], "is a str, not a function"),
    ([TARGET, "--args", "f32[4,8"], "bad array spec 'f32[4,8'"),
    ([TARGET, "--args", "f32[4,x]"], "bad shape in 'f32[4,x]'"),
    ([TARGET, "--args", "f8[4]"], "unknown dtype 'f8'"),
    ([TARGET, "--args", *ARGS, "--budget", "64XB"], "bad --budget '64XB'"),
    ([TARGET, "--args", *ARGS, "--argnums", "0,7"], "position 7 is out of range for 6 argument(s)"),
    ([TARGET, "--args", "i32[4,8]", *ARGS[1:]], "only floating-point arguments are differentiated"),
    ([TARGET, "--args", *ARGS[:2], "f32[9,2]", *ARGS[3:]], f"{TARGET} raised"),
    ([TARGET, "--args", *ARGS, "--policies", "none,fastest"], "unknown policy 'fastest'"),
    ([TARGET, "--args", *ARGS, "--rounds", "1"], "at least 2"),
])
def test_bad_input_is_one_line_and_exit_2(argv, expect, capsys):
    assert run.main(["profile", *argv]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("error: profile: ") and expect in err, err
    assert captured.out == ""
