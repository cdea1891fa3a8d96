"""The baseline experiment end to end through run.py: the run folder, the
report, the claims; and the report gathered from the newest runs."""

import json

import numpy as np

import run


def test_run_folder_report_and_claims(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["mnist1d-baselines", "--seeds", "2", "--steps", "150", "--chunk", "50", "--eval-every", "50",
            "--checkpoint-every", "50"]
    assert run.main(args) == 0
    folder = next((tmp_path / "runs" / "mnist1d-baselines").iterdir())
    for name in ("config.json", "env.json", "metrics.jsonl", "results.json", "report.md", "results.npz",
                 "figures/test_accuracy.png", "figures/test_accuracy.npz"):
        assert (folder / name).is_file(), name
    assert not (folder / ".staging").exists()
    env = json.loads((folder / "env.json").read_text())
    assert {"jax", "jaxlib", "backend", "devices", "xla_flags", "git_commit", "git_dirty", "x64"} <= set(env)
    assert env["x64"] is False and env["git_dirty"] in (True, False)
    saved = json.loads((folder / "config.json").read_text())
    assert saved["config"]["steps"] == 150 and saved["preset"] == "quick"
    assert saved["overrides"] == {"seeds": 2, "steps": 150, "chunk": 50, "eval_every": 50, "checkpoint_every": 50}
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    for name in ("logistic", "mlp", "cnn"):  # the fits run side by side: their lines interleave
        assert [line["step"] for line in lines if line["run"] == name] == [50, 100, 150]
    assert all(len(line["train/loss"]) == 2 for line in lines)
    results = json.loads((folder / "results.json").read_text())
    accuracy = {c["statement"]: c["value"] for c in results["claims"]}
    # 150 steps already separate the models: the CNN beats logistic regression.
    assert results["scalars"]["cnn/test_accuracy"] > results["scalars"]["logistic/test_accuracy"] + 0.2
    assert all(0.0 < v <= 1.0 for k, v in accuracy.items() if "accuracy" in k)
    figure = np.load(folder / "figures" / "test_accuracy.npz")
    assert figure["cnn/accuracy"].shape == (3, 2)
    assert (folder / "checkpoints" / "cnn" / "150").is_dir()

    assert run.main(["report"]) == 0
    report = (tmp_path / "runs" / "REPORT.md").read_text()
    assert "## mnist1d-baselines" in report and "CNN test accuracy" in report
    assert "mnist1d-baselines/" in report and "test_accuracy.png" in report
