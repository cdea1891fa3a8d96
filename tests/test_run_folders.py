"""Every tool that reads or writes a run folder survives any folder a user points
it at: a damaged run (corrupt, missing, wrong-typed, non-regular files), a folder
that is not a run, two runs on one folder, places it cannot read or write.

Each refusal is one line on stderr and exit 2 from run.py (a UsageError, which is
a ValueError, from the Python API), and leaves the folder as it was: same
listing, contents and mtimes, nothing half-written, no `.replot-*` left behind.
The damaged folders are copies of one real tiny ad-graph run."""

import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest

import experiments
import run
from common import run_lock, runs
from common.config import UsageError
from common.option_names import API
from common.run_records import read_finished

TINY = {"max_depth": 2, "widths": (2,), "seeds": 1, "input_counts": (8, 16), "harness_inputs": (2,)}
TINY_FLAGS = ["--max-depth", "2", "--widths", "2", "--seeds", "1", "--input-counts", "8", "16",
              "--harness-inputs", "2"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """One real finished ad-graph run, made once; tests damage copies of it."""
    folder = tmp_path_factory.mktemp("base") / "run"
    experiments.run("ad-graph", out=folder, compilation_cache=False, **TINY)
    return folder


@pytest.fixture
def good(base, tmp_path) -> Path:
    """A fresh copy of the real run, under tmp_path/runs/good."""
    return Path(shutil.copytree(base, tmp_path / "runs" / "good", symlinks=True))


def listing(root: Path) -> dict:
    """Every path under `root` (and root itself) with its kind, size, mtime and, for regular
    files, its bytes; nothing that is not a regular file is opened, no link is followed."""
    seen = {}
    for path in [root, *sorted(root.rglob("*"))]:
        info = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
        seen[str(path.relative_to(root))] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, content)
    return seen


def one_error_line(capsys, expect: str = "") -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], err
    return lines[0]


def refused(argv: list[str], capsys, expect: str, root: Path) -> str:
    """run.main refuses argv with one line holding `expect`, and root is unchanged."""
    before = listing(root)
    assert run.main(argv) == 2
    line = one_error_line(capsys, expect)
    assert listing(root) == before
    return line


def api_refused(call, expect: str, root: Path) -> None:
    before = listing(root)
    with pytest.raises(UsageError) as error:
        call()
    assert isinstance(error.value, ValueError) and expect in str(error.value), error.value
    assert "\n" not in str(error.value)
    assert listing(root) == before


# Damage to a run folder: (what it does, the words of the refusal, whether only the
# array readers, load and replot, see it).

def edit_results(change):
    def damage(folder: Path) -> None:
        data = json.loads((folder / "results.json").read_text())
        change(data)
        (folder / "results.json").write_text(json.dumps(data))
    return damage


def edit_config(change):
    def damage(folder: Path) -> None:
        data = json.loads((folder / "config.json").read_text())
        change(data)
        (folder / "config.json").write_text(json.dumps(data))
    return damage


def replace_with_folder(name):
    def damage(folder: Path) -> None:
        (folder / name).unlink()
        (folder / name).mkdir()
    return damage


def replace_with_fifo(name):
    def damage(folder: Path) -> None:
        (folder / name).unlink()
        os.mkfifo(folder / name)
    return damage


def write(name, data: bytes):
    def damage(folder: Path) -> None:
        (folder / name).write_bytes(data)
    return damage


def symlink_to(name, target):
    def damage(folder: Path) -> None:
        (folder / name).unlink()
        (folder / name).symlink_to(target)
    return damage


def truncate_npz(folder: Path) -> None:
    data = (folder / "results.npz").read_bytes()
    (folder / "results.npz").write_bytes(data[: len(data) // 2])


def pickled_npz(folder: Path) -> None:
    np.savez(folder / "results.npz", layered_depth=np.array([{"a": 1}, None], dtype=object))


def single_array_npz(folder: Path) -> None:
    with open(folder / "results.npz", "wb") as file:
        np.save(file, np.arange(3))


def claim(change):
    return edit_results(lambda d: change(d["claims"][0]))


DAMAGE = {
    "claims not a list": (edit_results(lambda d: d.update(claims="all good")), '"claims" is text, not a list', False),
    "claims a number list": (edit_results(lambda d: d.update(claims=[1, 2])), "claim 1 is a number, not an object",
                             False),
    "claim without statement": (claim(lambda c: c.pop("statement")), 'claim 1 has no "statement"', False),
    "claim without verdict": (claim(lambda c: c.pop("verdict")), 'claim 1 has no "verdict"', False),
    "claim value text": (claim(lambda c: c.update(value="six")), "claim 1's \"value\" is text", False),
    "claim interval of one end": (claim(lambda c: c.update(interval=[1.0])), "has 1 values, not [lo, hi]", False),
    "claim control a list": (claim(lambda c: c.update(control=[1])), "\"control\" is a list", False),
    "scalars a list": (edit_results(lambda d: d.update(scalars=[1, 2])), '"scalars" is a list, not an object', False),
    "scalar text": (edit_results(lambda d: d["scalars"].update(x="big")), 'scalar "x" is text', False),
    "tables rows not objects": (edit_results(lambda d: d.update(tables={"t": [1]})), 'a row of table "t"', False),
    "notes an object": (edit_results(lambda d: d.update(notes={})), '"notes" is an object, not a list', False),
    "seconds text": (edit_results(lambda d: d.update(seconds="5 s")), '"seconds" is text', False),
    "no experiment": (edit_results(lambda d: d.pop("experiment")), '"experiment" is null', False),
    "unknown experiment": (edit_results(lambda d: d.update(experiment="ad-grahp")),
                           "names experiment 'ad-grahp', which this code does not have", False),
    "results a list": (write("results.json", b"[1, 2]"), "results.json: the file is a list, not a JSON object",
                       False),
    "results empty": (write("results.json", b""), "results.json is empty", False),
    "results not json": (write("results.json", b'{"experiment": '), "results.json is not valid JSON", False),
    "results not utf-8": (write("results.json", b"\xff\xfe{}"), "results.json is not UTF-8 text", False),
    "results a folder": (replace_with_folder("results.json"), "results.json is a folder, not a regular file", False),
    "results a fifo": (replace_with_fifo("results.json"), "results.json is a FIFO", False),
    "results a link to /dev/zero": (symlink_to("results.json", "/dev/zero"), "is a character device", False),
    "results a dangling link": (symlink_to("results.json", "/nonexistent/results.json"), "no results.json", False),
    "config missing": (lambda f: (f / "config.json").unlink(), "config.json is missing", False),
    "config a folder": (replace_with_folder("config.json"), "config.json is a folder, not a regular file", False),
    "config a fifo": (replace_with_fifo("config.json"), "config.json is a FIFO", False),
    "config a list": (write("config.json", b"[1]"), "config.json: the file is a list, not a JSON object", False),
    "config not json": (write("config.json", b"{nope"), "config.json is not valid JSON", False),
    "config of another experiment": (edit_config(lambda d: d.update(experiment="selu-depth")),
                                     "is a config of selu-depth, but results.json says ad-graph", False),
    "config overrides a list": (edit_config(lambda d: d.update(overrides=[1])), '"overrides" is a list', False),
    "config preset a number": (edit_config(lambda d: d.update(preset=3)), '"preset" is a number', False),
    "env a list": (write("env.json", b"[]"), "env.json: the file is a list", False),
    "env a folder": (replace_with_folder("env.json"), "env.json is a folder", False),
    "env devices text": (write("env.json", b'{"devices": "cpu"}'), '"devices" is text, not a list', False),
    "config field of the wrong type": (edit_config(lambda d: d["config"].update(max_depth="deep")),
                                       "config.json does not fit ad-graph's Config", True),
    "npz truncated": (truncate_npz, "results.npz is not readable array data", True),
    "npz with a pickled object array": (pickled_npz, "results.npz is not readable array data", True),
    "npz a single .npy array": (single_array_npz, "holds one array, not an .npz archive", True),
    "npz not an archive": (write("results.npz", b"hello"), "results.npz is not readable array data", True),
    "npz a fifo": (replace_with_fifo("results.npz"), "results.npz is a FIFO", True),
    "npz a folder": (replace_with_folder("results.npz"), "results.npz is a folder", True),
}


@pytest.fixture(params=list(DAMAGE))
def damaged(request, good):
    make, expect, arrays_only = DAMAGE[request.param]
    make(good)
    return good, expect, arrays_only


def test_load_and_replot_refuse_a_damaged_run(damaged, capsys):
    folder, expect, _ = damaged
    api_refused(lambda: experiments.load(folder), expect, folder.parent)
    refused(["replot", str(folder)], capsys, expect, folder.parent)
    api_refused(lambda: experiments.replot(folder), expect, folder.parent)


def test_compare_and_report_refuse_a_damaged_run(damaged, base, capsys):
    folder, expect, arrays_only = damaged
    root = folder.parent
    if arrays_only:  # compare and report read no arrays and no Config: the run is fine for them
        assert run.main(["compare", str(base), str(folder)]) == 0
        return
    refused(["compare", str(base), str(folder)], capsys, expect, root)
    refused(["compare", str(folder), str(base)], capsys, expect, root)
    refused(["report", "--runs", str(root)], capsys, "no finished, readable runs", root)
    before = listing(root)
    assert run.main(["report", "--runs", str(root), "--verbose"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and expect in err and err.strip().splitlines()[-1].startswith("error: ")
    assert listing(root) == before and not (root / "REPORT.md").exists()


def test_report_names_the_skipped_runs_beside_the_valid_ones(good, tmp_path, capsys):
    broken = Path(shutil.copytree(good, good.parent / "broken"))
    edit_results(lambda d: d.update(scalars=[]))(broken)
    (good.parent / "unfinished").mkdir()
    (good.parent / "unfinished" / "config.json").write_text("{}")
    assert run.main(["report", "--runs", str(good.parent)]) == 0
    report = (good.parent / "REPORT.md").read_text()
    assert "| ad-graph | good | quick |" in report
    assert "## Skipped run folders" in report and f"`{broken}`: {broken}/results.json: \"scalars\" is a list" in report
    assert "skipped 1 run folder(s)" in capsys.readouterr().err
    assert [p.name for p in good.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("make,expect", [
    (lambda root: None, "no finished runs under"),
    (lambda root: (root / "a" / "b").mkdir(parents=True), "no finished runs under"),
    (lambda root: ((root / "half").mkdir(), (root / "half" / "config.json").write_text("{}")), "(1 unfinished;"),
])
def test_report_with_nothing_to_report(make, expect, tmp_path, capsys):
    root = tmp_path / "runs"
    root.mkdir()
    make(root)
    refused(["report", "--runs", str(root)], capsys, expect, tmp_path)


def test_report_refuses_an_unknown_preset(good, capsys):
    refused(["report", "--runs", str(good.parent), "--preset", "no-such-preset"], capsys,
            "invalid choice: 'no-such-preset'", good.parent)


def test_report_in_a_read_only_root_writes_nothing(good, monkeypatch, capsys):
    import tempfile

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    refused(["report", "--runs", str(good.parent)], capsys, "cannot write", good.parent)
    monkeypatch.undo()
    (good.parent / "REPORT.md").mkdir()  # a folder where the report goes
    refused(["report", "--runs", str(good.parent)], capsys, "other than a file is there", good.parent)


def test_unreadable_run_folder(good, monkeypatch, capsys):
    """Root reads everything: os.access says no, as it would to anyone else."""
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: Path(path) != good and real(path, mode, **kw))
    refused(["compare", str(good), str(good)], capsys, f"cannot read {good}: Permission denied", good.parent)
    refused(["replot", str(good)], capsys, "Permission denied", good.parent)
    refused(["report", "--runs", str(good.parent)], capsys, "(1 unreadable;", good.parent)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders without the read permission")
def test_unreadable_run_folder_for_real(good, capsys):
    good.chmod(0)
    try:
        refused(["replot", str(good)], capsys, "Permission denied", good.parent)
        refused(["report", "--runs", str(good.parent)], capsys, "unreadable", good.parent)
    finally:
        good.chmod(0o755)


# compare

def test_compare_refuses_one_run_twice_however_spelled(good, tmp_path, capsys, monkeypatch):
    (tmp_path / "link").symlink_to(good)
    monkeypatch.chdir(good.parent)
    for other in (str(good), "good", "./good/", "../runs/good", str(tmp_path / "link")):
        refused(["compare", "good", other], capsys, "are the same run", tmp_path)


@pytest.mark.parametrize("argv,expect", [
    (["compare", "{good}", "{good}/../good", "{good}"], "are the same run"),
    (["compare", "{good}"], "required: RUN"),
    (["compare", "{good}", "{good}/results.json"], "is not a folder, so not a run folder"),
    (["compare", "{good}", "{good}/absent"], "absent does not exist"),
    (["replot", "{good}/report.md"], "is not a folder, so not a run folder"),
    (["replot", "{good}/figures"], "is not a finished run folder (no results.json)"),
])
def test_commands_on_paths_that_are_not_runs(argv, expect, good, capsys):
    refused([a.format(good=good) for a in argv], capsys, expect, good.parent)


def test_compare_of_two_unknown_experiments(good, tmp_path, capsys):
    other = Path(shutil.copytree(good, good.parent / "other"))
    for folder in (good, other):
        edit_results(lambda d: d.update(experiment="no-such-experiment"))(folder)
        edit_config(lambda d: d.update(experiment="no-such-experiment"))(folder)
    refused(["compare", str(good), str(other)], capsys, "which this code does not have", tmp_path)


# replot

def test_replot_of_arrays_that_do_not_fit_the_figures(good, capsys):
    arrays = dict(np.load(good / "results.npz"))
    np.savez(good / "results.npz", **{**arrays, "layered/depth": np.arange(7)})  # wrong length for the curves
    line = refused(["replot", str(good)], capsys, "results.npz does not fit ad-graph's figures (ValueError:",
                   good.parent)
    assert str(good) in line
    np.savez(good / "results.npz", **{k: v for k, v in arrays.items() if k != "passes/inputs"})
    refused(["replot", str(good)], capsys, "lacks the figure data 'passes/inputs'", good.parent)


def test_replot_replaces_a_symlinked_figures_folder_not_its_target(good, tmp_path):
    target = tmp_path / "elsewhere"
    shutil.copytree(good / "figures", target)
    (target / "keep.txt").write_text("mine")
    before = listing(target)
    shutil.rmtree(good / "figures")
    (good / "figures").symlink_to(target)
    written = experiments.replot(good)
    assert not (good / "figures").is_symlink() and (good / "figures").is_dir()
    assert [p.name for p in written] == ["paths_and_passes.png"] and listing(target) == before
    assert sorted(p.name for p in good.iterdir() if p.name.startswith(".")) == []


def test_replot_keeps_no_debris_and_redraws_in_place(good):
    experiments.replot(good)
    experiments.replot(good)
    assert sorted(p.name for p in good.iterdir()) == [
        "config.json", "env.json", "figures", "report.md", "results.json", "results.npz"]
    assert sorted(p.name for p in (good / "figures").iterdir()) == ["paths_and_passes.npz", "paths_and_passes.png"]


def test_replot_where_figures_is_a_file(good, capsys):
    shutil.rmtree(good / "figures")
    (good / "figures").write_text("not a folder")
    refused(["replot", str(good)], capsys, "figures is a file, not a figures folder", good.parent)


def test_replot_in_a_read_only_run(good, monkeypatch, capsys):
    import tempfile

    real = tempfile.mkdtemp

    def read_only_run(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == good:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", read_only_run)
    refused(["replot", str(good)], capsys, f"replot: cannot write in {good} (Permission denied)", good.parent)


# --out and --resume: refusals touch nothing

def unfinished(folder: Path) -> Path:
    """A run cut short: the good run without its end files."""
    for name in ("results.json", "results.npz", "report.md"):
        (folder / name).unlink()
    shutil.rmtree(folder / "figures")
    return folder


@pytest.mark.parametrize("make,flags,expect", [
    (lambda f: f, [], "already holds a finished run"),
    (unfinished, [], "holds an unfinished run: add --resume to continue it"),
    (lambda f: f, ["--resume"], "the run is finished (results.json exists); nothing to resume"),
    (unfinished, ["--resume", *TINY_FLAGS[2:], "--max-depth", "3"], "started with max_depth=2, this command asks 3"),
    (lambda f: replace_with_fifo("config.json")(unfinished(f)), ["--resume"], "config.json is a FIFO"),
    (lambda f: replace_with_folder("config.json")(unfinished(f)), [], "holds an unfinished run"),
    (lambda f: (shutil.rmtree(f), f.mkdir()), ["--resume"], "no run there (no config.json); drop --resume"),
    (lambda f: shutil.rmtree(f), ["--resume"], "no run there (no config.json); drop --resume"),
])
def test_refused_out_folders_are_left_as_they_were(make, flags, expect, good, capsys):
    make(good)
    flags = flags if "--max-depth" in flags else [*flags, *TINY_FLAGS]  # the same config but where told
    refused(["ad-graph", "--out", str(good), *flags], capsys, expect, good.parent)


def test_resume_with_nothing_to_resume_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    refused(["ad-graph", "--resume", *TINY_FLAGS], capsys,
            "--resume: no unfinished run of ad-graph with this config under runs/ad-graph", tmp_path)


def test_out_that_cannot_be_written_is_asked_not_tried(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: not (Path(p) == folder and mode & os.W_OK)
                        and real(p, mode, **kw))
    refused(["ad-graph", "--out", str(folder), *TINY_FLAGS], capsys, "cannot write in", tmp_path)
    monkeypatch.undo()

    class ReadOnlyMount:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda path: ReadOnlyMount())
    refused(["ad-graph", "--out", str(folder), *TINY_FLAGS], capsys, "(read-only file system)", tmp_path)


def test_a_batch_folder_with_only_its_log_is_a_fresh_out(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "log.txt").write_text("starting\n")
    before = listing(tmp_path)
    runs.check_out_folder(folder, resume=False)
    assert listing(tmp_path) == before


# one writer per folder

def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path, capsys):
    folder = tmp_path / "run"
    held = run_lock.take(folder, API)
    try:
        before = listing(tmp_path)
        assert run.main(["ad-graph", "--out", str(folder), *TINY_FLAGS]) == 2
        one_error_line(capsys, f"--out {folder} is being written by another process (pid {os.getpid()})")
        assert listing(tmp_path) == before
        with pytest.raises(UsageError, match="pass another out"):
            experiments.run("ad-graph", out=folder, **TINY)
    finally:
        run_lock.release(held)
    assert list(folder.iterdir()) == []


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / ".lock").write_text("999999\n")  # left by a process that died: no flock is held
    held = run_lock.take(folder, API)
    run_lock.release(held)
    assert list(folder.iterdir()) == []


# the Python API speaks Python

@pytest.mark.parametrize("make,kwargs,expect", [
    (lambda f: f, {}, "out={f} already holds a finished run"),
    (unfinished, {}, "out={f} holds an unfinished run: pass resume=True to continue it"),
    (lambda f: f, {"resume": True}, "resume=True with out={f}: the run is finished"),
    (unfinished, {"resume": True, "max_depth": 3},
     "started with max_depth=2, this call asks 3 (resume with the same options, or pass resume=False"),
    (lambda f: f, {"resume": True, "out": None}, "resume=True needs out="),
])
def test_api_refusals_are_worded_for_python(make, kwargs, expect, good):
    make(good)
    kwargs = {**TINY, "out": good, **kwargs}
    before = listing(good.parent)
    with pytest.raises(ValueError) as error:
        experiments.run("ad-graph", **kwargs)
    message = str(error.value)
    assert isinstance(error.value, UsageError) and expect.format(f=good) in message, message
    assert "--" not in message
    assert listing(good.parent) == before


def test_api_resume_continues_an_unfinished_run(good):
    unfinished(good)
    again = experiments.run("ad-graph", out=good, resume=True, compilation_cache=False, **TINY)
    assert (good / "results.json").is_file() and again.claims and not (good / ".lock").exists()


def test_api_turns_the_compilation_cache_on_unless_told_not_to(monkeypatch):
    import jax

    from experiments import api

    class Stop(Exception):
        pass

    enabled = []
    monkeypatch.setattr(api, "enable_compilation_cache", lambda: enabled.append(True))
    monkeypatch.setattr(api.runs, "execute", lambda *args, **kwargs: (_ for _ in ()).throw(Stop()))
    try:
        with pytest.raises(Stop):
            experiments.run("ad-graph", compilation_cache=False, **TINY)
        assert enabled == [] and jax.config.jax_enable_compilation_cache is False
        with pytest.raises(Stop):
            experiments.run("ad-graph", **TINY)
        assert enabled == [True] and jax.config.jax_enable_compilation_cache is True
    finally:
        jax.config.update("jax_enable_compilation_cache", True)


def test_usage_error_is_a_value_error():
    assert issubclass(UsageError, ValueError)


def test_the_real_run_reads_back_whole(good):
    finished = read_finished(good)
    assert finished.experiment == "ad-graph" and finished.preset == "quick"
    assert experiments.load(good).config.max_depth == 2
