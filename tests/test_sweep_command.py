"""--sweep FIELD=v1,v2 (common/sweep.py): every point a run folder under one sweep folder,
sweep.md and a figure per claim, resume, refusals; the same from experiments.run(sweep=...)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import experiments
import run
from common.config import UsageError
from common.run_records import scan

MNIST = ["mnist1d-baselines", "--seeds", "2", "--steps", "20", "--chunk", "10", "--eval-every", "10",
         "--checkpoint-every", "10", "--mlp-width", "16", "--cnn-channels", "4"]
ROOT = Path(__file__).resolve().parents[1]
TINY_GRAPH = {"max_depth": 3, "widths": (2,), "input_counts": (2, 3)}


@pytest.fixture(scope="module")
def lr_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweeps") / "lr"
    assert run.main([*MNIST, "--sweep", "learning-rate=0.003,0.01", "--out", str(folder)]) == 0
    return folder


def test_two_learning_rates_in_one_sweep_folder(lr_sweep):
    record = json.loads((lr_sweep / "sweep.json").read_text())
    assert record["axes"] == [["learning_rate", [0.003, 0.01]]]
    points = [lr_sweep / p["folder"] for p in record["points"]]
    assert [p["values"] for p in record["points"]] == [{"learning_rate": 0.003}, {"learning_rate": 0.01}]
    for point, rate in zip(points, (0.003, 0.01)):
        assert json.loads((point / "config.json").read_text())["config"]["learning_rate"] == rate
        assert (point / "results.json").is_file() and (point / "figures" / "test_accuracy.png").is_file()
    table = (lr_sweep / "sweep.md").read_text()
    rows = [line for line in table.split("## Scalars")[0].splitlines() if line.startswith("| 0.0")]
    assert len(rows) == 2 and rows[0].startswith("| 0.003 | points/") and rows[1].startswith("| 0.01 | points/")
    assert "claim 4: CNN > MLP > logistic regression" in table
    assert sorted(p.name for p in (lr_sweep / "figures").glob("claim*.png")) == [f"claim0{k}.png" for k in (1, 2, 3, 4)]
    # and each scalar over the swept axis: a table and a figure per metric
    scalars = table.split("## Scalars", 1)[1]
    assert "mlp/test_accuracy" in scalars and len([r for r in scalars.splitlines() if r.startswith("| 0.0")]) == 2
    assert (lr_sweep / "figures" / "scalar-mlp-test_accuracy.png").is_file()
    # report, compare and export find the points as runs
    assert sorted(r.folder for r in scan(lr_sweep).runs) == sorted(points)


def test_a_resumed_sweep_skips_finished_points_and_finishes_the_rest(lr_sweep, tmp_path, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(lr_sweep, folder)
    record = json.loads((folder / "sweep.json").read_text())
    second = folder / record["points"][1]["folder"]
    claims = json.loads((second / "results.json").read_text())["claims"]
    (second / "results.json").unlink()  # as if stopped before the second point finished
    (folder / "sweep.md").unlink()
    assert run.main([*MNIST, "--sweep", "learning_rate=0.003,0.01", "--out", str(folder), "--resume"]) == 0
    out = capsys.readouterr().out
    assert "[point 1/2] learning_rate=0.003" in out and "finished: read back" in out
    assert json.loads((second / "results.json").read_text())["claims"] == claims  # ends where it would have
    assert without_seconds(folder / "sweep.md") == without_seconds(lr_sweep / "sweep.md")


def without_seconds(table):
    """sweep.md with its seconds column dropped (a resumed point's run is shorter)."""
    return [line.split(" | ")[:2] + line.split(" | ")[3:] for line in table.read_text().splitlines()]


@pytest.mark.parametrize("arguments, expect", [
    (["--sweep", "learning_rate=0.003,0.1"], "that folder holds another sweep (it differs in its axes)"),
    (["--sweep", "learning_rate=0.003,0.01", "--steps", "30"], "that folder holds another sweep (it differs in its base)"),
])
def test_a_sweep_never_mixes_two_configs(lr_sweep, arguments, expect, capsys):
    assert run.main([*MNIST, *arguments, "--out", str(lr_sweep), "--resume"]) == 2  # a later --steps wins
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expect in err, err


@pytest.mark.parametrize("sweep, expect", [
    ("learning_rate", "write FIELD=v1,v2,..."),
    ("learning_rat=0.1", "no field 'learning_rat'"),
    ("seeds=two,3", "invalid value for seeds: 'two' is not int"),
    ("dataset=mnist1d,imagenet", "invalid value for dataset: 'imagenet'"),
    ("learning_rate=0.1,0.1", "lists a value twice"),
])
def test_bad_sweeps_are_one_line(sweep, expect, tmp_path, capsys):
    assert run.main(["mnist1d-baselines", "--sweep", sweep, "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and expect in err, err
    assert not (tmp_path / "s").exists()


def test_tuple_fields_are_not_swept(tmp_path, capsys):
    assert run.main(["ad-graph", "--sweep", "widths=2,3", "--out", str(tmp_path / "s")]) == 2
    assert "'widths' is a tuple, not a number or a choice" in capsys.readouterr().err


def test_the_api_sweeps_a_shape_field(tmp_path):
    swept = experiments.run("ad-graph", out=tmp_path / "depth", sweep={"max_depth": [3, 4]}, **TINY_GRAPH)
    assert isinstance(swept, experiments.Sweep) and swept.axes == {"max_depth": [3, 4]}
    assert [r.config.max_depth for r in swept.runs] == [3, 4]
    assert all(r.claims and r.folder.parent == tmp_path / "depth" / "points" for r in swept.runs)
    with pytest.raises(UsageError, match="sweep= needs out="):
        experiments.run("ad-graph", sweep={"max_depth": [3]}, **TINY_GRAPH)
    with pytest.raises(UsageError, match="pass resume=True to continue the sweep there"):
        experiments.run("ad-graph", out=tmp_path / "depth", sweep={"max_depth": [3, 4]}, **TINY_GRAPH)
    again = experiments.run("ad-graph", out=tmp_path / "depth", sweep={"max_depth": [3, 4]}, resume=True,
                            **TINY_GRAPH)
    assert [r.claims for r in again.runs] == [r.claims for r in swept.runs]


def test_a_launched_sweep_runs_its_points_as_jobs_and_a_resubmission_runs_only_what_is_left(lr_sweep, tmp_path):
    """--launcher local: submitit's local executor, the code path of --launcher slurm (run as a user
    would, in a process of its own: submitit's job processes outlive pytest's captured streams). The
    job's two points train as members of one program; the resubmitted job runs the one left alone."""
    pytest.importorskip("submitit")
    folder = tmp_path / "launched"
    arguments = [*MNIST, "--sweep", "learning_rate=0.003,0.01", "--launcher", "local", "--points-per-job", "2",
                 "--out", str(folder)]
    first = command(arguments)
    assert first.returncode == 0 and "submitted 1 local job(s) for 2 point(s)" in first.stdout, first.stderr
    assert len(list((folder / "batches").iterdir())) == 1
    assert "Points 1, 2 trained as members of one compiled program" in (folder / "sweep.md").read_text()
    record = json.loads((folder / "sweep.json").read_text())
    for point in (folder / p["folder"] for p in record["points"]):
        assert json.loads((point / "results.json").read_text())["claims"] == \
            json.loads((lr_sweep / "points" / point.name / "results.json").read_text())["claims"]
    second = folder / record["points"][1]["folder"]
    claims = json.loads((second / "results.json").read_text())["claims"]
    (second / "results.json").unlink()
    again = command([*arguments, "--resume"])
    assert again.returncode == 0 and "submitted 1 local job(s) for 1 point(s)" in again.stdout, again.stderr
    assert json.loads((second / "results.json").read_text())["claims"] == claims


def test_launcher_refusals_make_no_folder(tmp_path):
    refused = command(["ad-graph", "--launcher", "local", "--out", str(tmp_path / "x")])
    assert refused.returncode == 2 and "--launcher sends the points of a sweep" in refused.stderr
    refused = command(["ad-graph", "--sweep", "max_depth=3,4", "--launcher", "slurm", "--out", str(tmp_path / "y")])
    assert refused.returncode == 2 and "no sbatch on this machine" in refused.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def command(arguments):
    return subprocess.run([sys.executable, "run.py", *arguments], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_the_points_train_as_members_of_one_program_and_each_is_its_own_run(lr_sweep, tmp_path):
    """mnist1d-baselines names learning_rate in MEMBER_FIELDS: both points' fits ran as one program
    (the batch's log holds both rates), and each point's results are those of its own run."""
    assert "Points 1, 2 trained as members of one compiled program (learning_rate" in (lr_sweep / "sweep.md").read_text()
    (batch,) = (lr_sweep / "batches").iterdir()
    lines = [json.loads(line) for line in (batch / "metrics.jsonl").read_text().splitlines()]
    assert {line["run"] for line in lines} == {"logistic", "mlp", "cnn"}
    assert all([m["learning_rate"] for m in line["members"]] == [0.003, 0.003, 0.01, 0.01] for line in lines)
    point = lr_sweep / json.loads((lr_sweep / "sweep.json").read_text())["points"][1]["folder"]
    own = [json.loads(line) for line in (point / "metrics.jsonl").read_text().splitlines()]
    assert own and all(line["members"] == [{"member": 0, "seed": s, "learning_rate": 0.01} for s in (0, 1)]
                       for line in own)
    assert run.main([*MNIST, "--learning-rate", "0.01", "--out", str(tmp_path / "alone")]) == 0
    alone = json.loads((tmp_path / "alone" / "results.json").read_text())
    swept = json.loads((point / "results.json").read_text())
    assert swept["claims"] == alone["claims"] and swept["scalars"] == alone["scalars"]


def test_a_batched_sweep_resumed_from_mid_way_checkpoints_ends_where_it_would_have(lr_sweep, tmp_path, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(lr_sweep, folder)
    for last in (folder / "batches").glob("*/checkpoints/*/20"):
        shutil.rmtree(last)  # as if stopped after step 10 of every fit
    points = [folder / p["folder"] for p in json.loads((folder / "sweep.json").read_text())["points"]]
    for point in points:
        (point / "results.json").unlink()
    assert run.main([*MNIST, "--sweep", "learning_rate=0.003,0.01", "--out", str(folder), "--resume"]) == 0
    for point in points:
        original = lr_sweep / "points" / point.name
        assert json.loads((point / "results.json").read_text())["claims"] == \
            json.loads((original / "results.json").read_text())["claims"]
        lines = lambda run: sorted((run / "metrics.jsonl").read_text().splitlines())  # the fits log side by side
        assert lines(point) == lines(original)


def test_an_interrupted_batched_sweep_says_how_to_resume_the_sweep(tmp_path, monkeypatch, capsys):
    import signal

    from common import train

    monkeypatch.setattr(train.interrupts, "pending", lambda: signal.SIGTERM)
    folder = tmp_path / "cut"
    assert run.main([*MNIST, "--sweep", "learning_rate=0.003,0.01", "--out", str(folder)]) == 143
    err = capsys.readouterr().err
    assert f"--resume --out {folder}" in err and "the sweep stopped at point 1 of 2" in err


def test_help_and_list_say_which_fields_sweep_as_members():
    from common.experiment_help import help_text, preset_lines
    from experiments.catalog import entries

    catalog = entries()
    line = "--sweep over learning_rate trains the points as members of one compiled program"
    assert catalog["mnist1d-baselines"].member_fields == ("learning_rate",)
    assert line in help_text(catalog["mnist1d-baselines"]) and line in preset_lines(catalog["mnist1d-baselines"])[-1]
    assert "--sweep over" not in help_text(catalog["ad-graph"])


def test_sweep_mode_runs_gives_each_point_its_own_program_and_the_same_numbers(lr_sweep, tmp_path, capsys):
    folder = tmp_path / "apart"
    assert run.main([*MNIST, "--sweep", "learning_rate=0.003,0.01", "--sweep-mode", "runs", "--out", str(folder)]) == 0
    assert "train as members" not in capsys.readouterr().out and not (folder / "batches").exists()
    assert "trained as members" not in (folder / "sweep.md").read_text()
    for point in (folder / "points").iterdir():
        assert json.loads((point / "results.json").read_text())["claims"] == \
            json.loads((lr_sweep / "points" / point.name / "results.json").read_text())["claims"]
    assert run.main([*MNIST, "--sweep-mode", "runs"]) == 2
    assert "--sweep-mode says how a sweep's points run" in capsys.readouterr().err
    with pytest.raises(UsageError, match="sweep_mode='apart': choose from 'members', 'runs'"):
        experiments.run("mnist1d-baselines", out=tmp_path / "x", sweep={"learning_rate": [0.01]}, sweep_mode="apart")
    with pytest.raises(UsageError, match="add sweep="):
        experiments.run("mnist1d-baselines", sweep_mode="runs")


def test_a_second_experiment_batches_its_rate_with_the_same_numbers_as_its_own_run(tmp_path):
    """bbb-variance's training fit takes learning_rate as a member too: the sweep's second point
    equals that rate's own run (the variance measures after training run per point)."""
    tiny = {"seeds": 2, "width": 8, "train_steps": 20, "chunk": 10, "draws": 2, "minibatches": 2,
            "batch_sizes": (4, 8)}
    swept = experiments.run("bbb-variance", out=tmp_path / "sweep", sweep={"learning_rate": [1e-3, 1e-2]}, **tiny)
    assert "Points 1, 2 trained as members" in (tmp_path / "sweep" / "sweep.md").read_text()
    alone = experiments.run("bbb-variance", out=tmp_path / "alone", learning_rate=1e-2, **tiny)
    assert swept.runs[1].claims == alone.claims
