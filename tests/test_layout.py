"""The study layer's shape (DESIGN.md): study packages on both sides, experiment modules that read in
one sitting, no structure carried in strings, one tuning stage, claims by keyword."""

import ast
import statistics
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ("autodiff", "selu", "pruning", "gan", "bayes")
EXPERIMENT_FILES = sorted((ROOT / "experiments").rglob("*.py"))


def experiment_modules() -> list[Path]:
    """Modules that define an experiment (NAME = ...) inside a study package."""
    return [p for p in EXPERIMENT_FILES if p.parent.name != "experiments" and "\nNAME = " in p.read_text()]


def lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_study_packages_on_both_sides():
    for study in STUDIES:
        assert (ROOT / "research" / study / "__init__.py").is_file(), study
        assert (ROOT / "experiments" / study / "__init__.py").is_file(), study
    assert (ROOT / "experiments" / "foundation" / "__init__.py").is_file()
    assert not [p.name for p in (ROOT / "research").glob("*.py") if p.name != "__init__.py"]


def test_line_budgets():
    modules = experiment_modules()
    assert len(modules) >= 17
    sizes = {p.relative_to(ROOT).as_posix(): lines(p) for p in modules}
    assert max(sizes.values()) <= 450, sizes
    assert statistics.median(sizes.values()) < 300, sizes
    assert sum(lines(p) for p in EXPERIMENT_FILES) <= 5800


@pytest.mark.parametrize("path", experiment_modules(), ids=lambda p: p.stem)
def test_run_is_a_page(path):
    tree = ast.parse(path.read_text())
    (run,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "run"]
    assert run.end_lineno - run.lineno + 1 <= 40


def test_no_key_parsing_in_experiments():
    """Keys are written and read through records, never cut apart."""
    found = [f"{p.relative_to(ROOT)}:{i}" for p in EXPERIMENT_FILES
             for i, line in enumerate(p.read_text().splitlines(), 1)
             if '.split("/")' in line or ".removeprefix(" in line or ".removesuffix(" in line]
    assert not found


def test_one_split_class():
    sources = [*ROOT.glob("common/**/*.py"), *ROOT.glob("research/**/*.py"), *EXPERIMENT_FILES]
    splits = [p.relative_to(ROOT).as_posix() for p in sources if "\nclass Split(" in p.read_text()]
    assert splits == ["common/tuning.py"]


def test_claims_and_controls_by_keyword():
    positional = []
    for path in [*EXPERIMENT_FILES, *ROOT.glob("docs/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("Claim", "Control")
                    and node.args):
                positional.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not positional
