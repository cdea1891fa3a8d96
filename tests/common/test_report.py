"""runs/REPORT.md: each experiment's newest finished run by time, whatever its
name or depth, preferring the named preset; the report says which run, preset
and overrides it used. Resume finds runs in both config.json layouts."""

import json
import os
from dataclasses import dataclass

import run
from common.report import collect, newest_finished_runs
from common.runs import resumable_folder


def finished(folder, mtime, experiment="prune-rethink", preset="quick", overrides=None):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(
        {"experiment": experiment, "preset": preset, "overrides": overrides or {}, "config": {}}))
    results = folder / "results.json"
    results.write_text(json.dumps({"experiment": experiment, "seconds": 2.5, "claims": [
        {"statement": "a claim", "paper": "1", "measured": "1", "value": 1.0, "verdict": "reproduced"}]}))
    os.utime(results, (mtime, mtime))
    return folder


def test_newest_finished_run_is_by_time_not_name(tmp_path):
    finished(tmp_path / "prune-rethink" / "20261127-163948", 2_000)  # newest
    finished(tmp_path / "prune-rethink" / "20261127-pr-final", 1_000)  # an --out name, older
    (tmp_path / "prune-rethink" / "20261127-170000").mkdir()  # unfinished: no results.json
    finished(tmp_path / "bbb-variance" / "mine", 500, "bbb-variance")
    newest = newest_finished_runs(tmp_path)
    assert {name: r.folder for name, r in newest.items()} == {
        "bbb-variance": tmp_path / "bbb-variance" / "mine",
        "prune-rethink": tmp_path / "prune-rethink" / "20261127-163948",
    }
    assert newest_finished_runs(tmp_path / "absent") == {}


def test_runs_at_any_depth_named_by_results_json(tmp_path):
    finished(tmp_path / "mdev" / "mb5", 1_000, "mnist1d-baselines")  # --out runs/mdev/mb5
    finished(tmp_path / "mine", 900, "bbb-variance")  # --out runs/mine
    staged = tmp_path / "ad-graph" / "x" / ".staging"  # a finish cut short: not a run
    staged.mkdir(parents=True)
    (staged / "results.json").write_text(json.dumps({"experiment": "ad-graph"}))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "results.json").write_text("[1, 2]")  # not a run's results
    assert {n: r.folder for n, r in newest_finished_runs(tmp_path).items()} == {
        "mnist1d-baselines": tmp_path / "mdev" / "mb5", "bbb-variance": tmp_path / "mine"}


def test_the_named_preset_is_preferred_over_a_newer_run(tmp_path):
    finished(tmp_path / "quick-run", 1_000, preset="quick")
    finished(tmp_path / "paper-run", 2_000, preset="paper", overrides={"seeds": 3, "steps": 10})
    assert newest_finished_runs(tmp_path, "quick")["prune-rethink"].folder == tmp_path / "quick-run"
    assert newest_finished_runs(tmp_path, "paper")["prune-rethink"].folder == tmp_path / "paper-run"
    assert newest_finished_runs(tmp_path, "large")["prune-rethink"].folder == tmp_path / "paper-run"  # none: newest
    report = collect(tmp_path, ["prune-rethink"], "paper")
    assert "| prune-rethink | paper-run | paper | seeds=3, steps=10 | 1 | 0 | 0 | 0 | 0 | 1 | 2.5 |" in report
    assert "Run `" + str(tmp_path / "paper-run") + "`, preset paper, overrides seeds=3, steps=10;" in report


def test_report_command_reads_another_root(tmp_path, capsys):
    root = tmp_path / "elsewhere"
    finished(root / "deep" / "er" / "run", 1_000, preset="paper")
    assert run.main(["report", "--runs", str(root), "--preset", "paper"]) == 0
    report = (root / "REPORT.md").read_text()
    assert "preferring preset `paper`" in report and "| prune-rethink | deep/er/run | paper | none |" in report
    assert run.main(["report", "--runs", str(tmp_path / "typo")]) == 2
    assert "no runs folder" in capsys.readouterr().err and not (tmp_path / "typo").exists()


@dataclass(frozen=True)
class Config:
    seeds: int = 1


def test_resume_finds_both_config_layouts(tmp_path):
    old, new = tmp_path / "x" / "20260101-000000", tmp_path / "x" / "20260102-000000"
    old.mkdir(parents=True)
    (old / "config.json").write_text(json.dumps({"seeds": 1}))  # before preset and overrides were saved
    assert resumable_folder("x", Config(), tmp_path) == old
    new.mkdir()
    (new / "config.json").write_text(json.dumps(
        {"experiment": "x", "preset": "quick", "overrides": {}, "config": {"seeds": 1}}))
    assert resumable_folder("x", Config(), tmp_path) == new
    assert resumable_folder("x", Config(seeds=2), tmp_path) is None


UNMEASURED = {"statement": "r1 ends at a locally attracting stationary point", "paper": "< 0", "region": "< 0",
              "measured": "not measured", "value": None, "interval": None, "how": "no seed ends stationary",
              "verdict": "not measured", "control": {"name": "a repelling point", "value": None}}
NOT_RUN = {"statement": "the trainer at 64 seeds", "paper": ">= 0.95x", "region": ">= 0.95", "measured": "not run",
           "value": None, "interval": None, "how": "needs --preset paper", "verdict": "not run at this preset",
           "control": {"name": "half speed"}}
OLD_NAN = {"statement": "an older run's NaN claim", "paper": "1", "measured": "n/a", "value": None,
           "interval": [None, None], "how": "could not be measured", "verdict": "inconclusive",
           "control": {"name": "c", "value": None, "interval": [None, None]}}


def test_claims_without_a_value_are_said_in_words_by_every_renderer(tmp_path):
    """A NaN claim (value and interval null, old or new layout) and a claim not run at this
    preset go through report.md's table, REPORT.md, compare and the API without an error."""
    from common.compare import compare
    from common.report import claim_cell, claims_table
    from common.run_records import read_finished

    table = claims_table([UNMEASURED, NOT_RUN, OLD_NAN])
    assert "not measured (no seed ends stationary)" in table
    assert "not run at this preset (needs --preset paper)" in table
    assert "exact" not in table and "[-inf, inf]" in table
    assert claim_cell(UNMEASURED) == "not measured (no seed ends stationary)"
    for name in ("a", "b"):
        folder = finished(tmp_path / name, 1_000, "gan-mixture")
        data = json.loads((folder / "results.json").read_text())
        data["claims"] = [UNMEASURED, NOT_RUN, OLD_NAN]
        (folder / "results.json").write_text(json.dumps(data))
    report = collect(tmp_path, ["gan-mixture"])
    assert "| quick | none | 0 | 0 | 1 | 1 | 1 | 3 |" in report
    assert "not measured (no seed ends stationary)" in compare(read_finished(tmp_path / "a"),
                                                              read_finished(tmp_path / "b"))
    assert run.main(["report", "--runs", str(tmp_path)]) == 0
    assert "not run at this preset" in (tmp_path / "REPORT.md").read_text()


def test_a_failed_experiment_is_marked_in_the_report(tmp_path):
    from common.report import Failure

    finished(tmp_path / "ok", 1_000, "bbb-variance")
    finished(tmp_path / "older", 500, "ad-graph")  # an older run of the failed one is not shown as its result
    report = collect(tmp_path, ["ad-graph", "bbb-variance"], "quick",
                     {"ad-graph": Failure("RuntimeError: boom", tmp_path / "x" / "log.txt")})
    assert "| ad-graph | **failed**: RuntimeError: boom |" in report
    assert f"RuntimeError: boom; its log: `{tmp_path / 'x' / 'log.txt'}`" in report
    assert "older" not in report and "| bbb-variance | ok |" in report
