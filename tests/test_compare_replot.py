"""run.py compare (two or more runs) and replot: read finished run folders only (no training),
and bad input is one line with exit 2."""

import json
from pathlib import Path

import pytest

import experiments
import run

TINY = {"max_depth": 3, "widths": (2,), "input_counts": (2, 3)}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    experiments.run("ad-graph", out=root / "a", **TINY)
    experiments.run("ad-graph", out=root / "deeper" / "b", **{**TINY, "max_depth": 4})
    return root / "a", root / "deeper" / "b"


def fake_run(folder, experiment, claims, scalars):
    """A finished run folder as results.json describes it (compare reads nothing else)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(
        {"experiment": experiment, "preset": "paper", "overrides": {"seeds": 3}, "config": {"seeds": 3}}))
    (folder / "results.json").write_text(json.dumps(
        {"experiment": experiment, "seconds": 1.0, "claims": claims, "scalars": scalars}))
    return folder


def one_error_line(capsys, expect):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and expect in err, err


def test_compare_two_runs_side_by_side(two_runs, capsys):
    a, b = two_runs
    assert run.main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "preset quick, overrides input_counts=[2, 3], widths=[2], max_depth=3," in out
    assert "overrides input_counts=[2, 3], widths=[2], max_depth=4," in out
    assert "| claim | A | B | B - A |" in out
    exact = next(line for line in out.splitlines() if line.startswith("| the notes' graph: e = 6"))
    assert exact.endswith("| reproduced: 0.00e+00 | reproduced: 0.00e+00 | +0 |")  # exact on both sides: no interval
    gap = next(line for line in out.splitlines() if line.startswith("| layered/jvp_max_gap |"))
    assert gap.count("|") == 5  # one value per run, and B - A
    assert "Verdicts that differ" not in out


def test_compare_shows_intervals_and_absent_claims(tmp_path, capsys):
    claim = {"statement": "s", "paper": "p", "measured": "0.5", "value": 0.5}
    a = fake_run(tmp_path / "a", "bbb-variance", [claim | {"verdict": "inconclusive", "interval": [0.25, 0.75]}],
                 {"x": 1.0})
    b = fake_run(tmp_path / "b", "bbb-variance", [{**claim, "statement": "t", "verdict": "reproduced"}], {"x": None})
    assert run.main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "| s | inconclusive: 0.5 [0.25, 0.75] | absent | n/a |" in out
    assert "| t | absent | reproduced: 0.5 | n/a |" in out
    assert "| x | 1 | nan | n/a |" in out


def test_compare_three_runs_differences_and_changed_verdicts(two_runs, tmp_path, capsys):
    """A and B are real runs (max_depth 3 and 4); C is A with its first claim made a
    measurement with an interval that is not reproduced."""
    import shutil

    a, b = two_runs
    c = Path(shutil.copytree(a, tmp_path / "c"))
    data = json.loads((c / "results.json").read_text())
    data["claims"][0] |= {"measured": "7", "value": 7.0, "interval": [6.5, 7.5], "verdict": "not reproduced"}
    (c / "results.json").write_text(json.dumps(data))
    assert run.main(["compare", str(a), str(b), str(c)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# ad-graph: A against B, C\n")
    for label, folder in (("A", a), ("B", b), ("C", c)):
        assert f"{label}: `{folder}`, preset quick, overrides " in out
    assert "| claim | A | B | C | B - A | C - A |" in out
    first = data["claims"][0]
    row = next(line for line in out.splitlines() if line.startswith(f"| {first['statement']} |"))
    assert row.endswith("| reproduced: 0.00e+00 | reproduced: 0.00e+00 | not reproduced: 7 [6.5, 7.5] | +0 | "
                        "+7 [6.5, 7.5] |")
    assert "diff +- sqrt(h1^2 + h2^2)" in out
    assert (f"- {first['statement']} (needs {first['region']}): A reproduced: 0.00e+00; C not reproduced: 7 "
            "[6.5, 7.5]" in out)
    assert out.count("\n- ") == 1  # only the claim whose verdict changed
    scalars = [line.split(" | ") for line in out.split("## Scalars")[1].splitlines() if line.startswith("| ")][1:]
    assert scalars and all(cells[-1] in ("+0 |", "n/a |") for cells in scalars)  # C has A's scalars
    assert any(cells[-2] not in ("+0", "n/a") for cells in scalars)  # B is deeper: some scalar moved


def test_compare_difference_interval_combines_half_widths_in_quadrature(tmp_path, capsys):
    claim = {"statement": "s", "paper": "p", "verdict": "inconclusive"}
    a = fake_run(tmp_path / "a", "bbb-variance", [claim | {"measured": "0.5", "value": 0.5, "interval": [0.25, 0.75]}],
                 {})
    b = fake_run(tmp_path / "b", "bbb-variance", [claim | {"measured": "1", "value": 1.0, "interval": [0.7, 1.3]}], {})
    c = fake_run(tmp_path / "c", "bbb-variance", [claim | {"measured": "2", "value": 2.0, "interval": [1.0, None]}],
                 {})
    assert run.main(["compare", str(a), str(b), str(c)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| s |"))
    # 0.5 +- sqrt(0.25^2 + 0.3^2) = 0.5 +- 0.3905; an unbounded end gives no interval
    assert row.endswith("| +0.5 [0.1095, 0.8905] | +1.5 |"), row


def test_compare_runs_of_different_experiments(tmp_path, capsys):
    a = fake_run(tmp_path / "a", "bbb-variance", [], {})
    b = fake_run(tmp_path / "b", "bbb-variance", [], {})
    c = fake_run(tmp_path / "c", "ad-graph", [], {})
    assert run.main(["compare", str(a), str(b), str(c)]) == 2
    one_error_line(capsys, "runs of one experiment")


def test_compare_a_run_named_twice_among_three(two_runs, capsys):
    a, b = two_runs
    assert run.main(["compare", str(a), str(b), f"{a}/../{a.name}"]) == 2
    one_error_line(capsys, "are the same run")


def test_compare_a_folder_that_is_not_a_run(two_runs, tmp_path, capsys):
    assert run.main(["compare", str(two_runs[0]), str(tmp_path)]) == 2
    one_error_line(capsys, "is not a finished run folder")


def test_replot_redraws_without_training(two_runs, monkeypatch, capsys):
    folder = two_runs[1]
    png = folder / "figures" / "paths_and_passes.png"
    drawn = png.read_bytes()
    png.unlink()
    (folder / "figures" / "paths_and_passes.npz").unlink()

    def no_training(*args):
        raise AssertionError("replot must not run the experiment")

    monkeypatch.setattr(experiments.find("ad-graph"), "run", no_training)
    assert run.main(["replot", str(folder)]) == 0
    assert f"wrote {png}" in capsys.readouterr().out
    assert png.read_bytes()[:8] == drawn[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / "figures" / "paths_and_passes.npz").is_file()
    assert not (folder / ".replot").exists()


def test_figure_formats_for_a_paper(two_runs, tmp_path, capsys):
    """--figure-format adds vector figures beside the PNG, on a run and on replot; a bad format is one line."""
    import shutil

    folder = tmp_path / "vector"
    assert run.main(["ad-graph", "--max-depth", "3", "--widths", "2", "--input-counts", "2", "3",
                     "--figure-format", "svg", "--out", str(folder)]) == 0
    assert {p.suffix for p in (folder / "figures").iterdir()} == {".png", ".svg", ".npz"}
    assert (folder / "figures" / "paths_and_passes.svg").read_text().lstrip().startswith("<?xml")
    copy = tmp_path / "copy"
    shutil.copytree(two_runs[0], copy)
    assert run.main(["replot", str(copy), "--figure-format", "pdf,png"]) == 0
    assert f"wrote {copy / 'figures' / 'paths_and_passes.pdf'}" in capsys.readouterr().out
    assert (copy / "figures" / "paths_and_passes.pdf").read_bytes()[:5] == b"%PDF-"
    assert [p.suffix for p in experiments.replot(copy)] == [".png"]  # the default: PNG alone again
    assert run.main(["replot", str(copy), "--figure-format", "jpg"]) == 2
    one_error_line(capsys, "jpg is not a figure format: choose from png, pdf, svg")
    with pytest.raises(ValueError, match="figure_formats=.*eps is not a figure format"):
        experiments.replot(copy, figure_formats=("eps",))


@pytest.mark.parametrize("remove,expect", [
    ("results.npz", "has no figure data (results.npz)"),
    ("results.json", "is not a finished run folder"),
])
def test_replot_bad_folders(remove, expect, two_runs, tmp_path, capsys):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(two_runs[0], folder)
    (folder / remove).unlink()
    assert run.main(["replot", str(folder)]) == 2
    one_error_line(capsys, expect)
