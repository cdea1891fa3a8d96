"""run.py's commands: help for each, one consistent usage block, no traceback
when the reader of `list` goes away, no far-fetched suggestions."""

import subprocess
import sys
from pathlib import Path

import pytest

import run

ROOT = Path(__file__).resolve().parents[1]


def test_list_into_a_closed_pipe_has_no_traceback(tmp_path):
    child = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "list"], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # as `| head` does once it has its lines
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.parametrize("command,expect", [
    ("list", "usage: run.py list"),
    ("report", "--runs DIR"),
    ("compare", "RUN_A RUN_B"),
    ("replot", "usage: run.py replot"),
    ("all", "--preset {quick,paper}"),
])
def test_every_command_prints_its_help(command, expect, capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main([command, "--help"])
    assert exit_.value.code == 0
    assert expect in capsys.readouterr().out


def test_help_is_one_block_naming_every_command(capsys):
    assert run.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == run.__doc__.strip()
    for command in run.COMMANDS:
        assert f"python run.py {command}" in out
    assert run.main([]) == 2
    assert capsys.readouterr().err.strip() == run.__doc__.strip()


@pytest.mark.parametrize("word", ["clean", "status", "help-me"])
def test_unrelated_words_get_no_suggestion(word, capsys):
    assert run.main([word]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and "bench" not in err


def test_a_typo_of_a_command_is_suggested(capsys):
    assert run.main(["reprot"]) == 2
    assert "did you mean report" in capsys.readouterr().err
