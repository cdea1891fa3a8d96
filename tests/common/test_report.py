"""runs/REPORT.md picks each experiment's newest finished run by time, whatever its name."""

import os

from common.report import newest_finished_runs


def finished(folder, mtime):
    folder.mkdir(parents=True)
    results = folder / "results.json"
    results.write_text("{}")
    os.utime(results, (mtime, mtime))


def test_newest_finished_run_is_by_time_not_name(tmp_path):
    finished(tmp_path / "prune-rethink" / "20261127-163948", 2_000)  # newest
    finished(tmp_path / "prune-rethink" / "20261127-pr-final", 1_000)  # an --out name, older
    (tmp_path / "prune-rethink" / "20261127-170000").mkdir()  # unfinished: no results.json
    finished(tmp_path / "bbb-variance" / "mine", 500)
    assert newest_finished_runs(tmp_path) == {
        "bbb-variance": tmp_path / "bbb-variance" / "mine",
        "prune-rethink": tmp_path / "prune-rethink" / "20261127-163948",
    }
    assert newest_finished_runs(tmp_path / "absent") == {}
