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
    ("compare", "RUN RUN [RUN ...]"),
    ("export", "--format {csv,json,latex}"),
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


def test_all_goes_on_past_a_failing_experiment_and_reports_it(tmp_path, monkeypatch, capsys):
    """`all`: an experiment that raises mid-way is one FAILED line with its error and log; the
    others still run; REPORT.md is written with it marked failed; the exit code is 1."""
    from common import batch
    from common.run_records import new_folder

    monkeypatch.chdir(tmp_path)
    fake = tmp_path / "fake_run.py"  # selu-constants raises mid-way; the rest is the real run.py
    fake.write_text(f"import runpy, sys\nif sys.argv[1] == 'selu-constants':\n    print('measuring')\n"
                    f"    raise RuntimeError('boom mid-way')\n"
                    f"sys.path.insert(0, {str(batch.RUN_PY.parent)!r})\n"
                    f"runpy.run_path({str(batch.RUN_PY)!r}, run_name='__main__')\n")
    monkeypatch.setattr(batch, "RUN_PY", fake)
    tiny = ("--max-depth", "2", "--widths", "2", "--seeds", "1", "--input-counts", "8", "16",
            "--harness-inputs", "2")
    jobs = [batch.Job("ad-graph", ("ad-graph", *tiny), new_folder("ad-graph"), 2.0),
            batch.Job("selu-constants", ("selu-constants",), new_folder("selu-constants"), 1.0)]
    monkeypatch.setattr(run, "all_jobs", lambda entries, options: jobs)
    assert run.main(["all", "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "FAILED: RuntimeError: boom mid-way" in out and "[2/2]" in out
    report = (tmp_path / "runs" / "REPORT.md").read_text()
    assert "**failed**: RuntimeError: boom mid-way" in report
    assert str(jobs[1].log) in report and "measuring" in jobs[1].log.read_text()
    assert "| ad-graph |" in report and (jobs[0].folder / "results.json").is_file()


def test_all_passes_seeds_out_and_tensorboard_on(tmp_path):
    """`all --seeds 2 --out DIR --tensorboard`: each experiment's command gets them (--seeds only where
    the experiment has seeds), its folder is under DIR."""
    import argparse

    from experiments import catalog

    options = argparse.Namespace(preset="quick", seeds=2, out=tmp_path / "mine", tensorboard=True,
                                 figure_formats=("png", "svg"))
    jobs = {job.name: job for job in run.all_jobs(catalog.entries(), options)}
    assert jobs["ad-graph"].arguments == ("ad-graph", "--preset", "quick", "--seeds", "2", "--tensorboard",
                                          "--figure-format", "png,svg")
    assert "--seeds" not in jobs["ad-cost"].arguments  # it has no seeds
    assert all(job.folder.parent.parent == tmp_path / "mine" for job in jobs.values())
