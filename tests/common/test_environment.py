"""env.json says whether x64 was on and whether the tree differed from its commit."""

import subprocess

import jax

from common import environment


def test_x64_is_recorded():
    assert environment.describe()["x64"] is False
    with jax.enable_x64(True):
        assert environment.describe()["x64"] is True


def test_a_dirty_tree_is_recorded(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "a.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "a.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "a"], check=True)
    monkeypatch.setattr(environment, "__file__", str(repo / "a.py"))  # git runs beside this file
    assert environment.git_dirty() is False and environment.git_commit()
    (repo / "a.py").write_text("x = 2\n")
    assert environment.git_dirty() is True
    monkeypatch.setattr(environment, "__file__", str(tmp_path / "b.py"))  # outside any repository
    assert environment.git_dirty() is None
