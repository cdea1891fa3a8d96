"""The experiment registry: every module in a study package
(experiments/{foundation,autodiff,selu,pruning,gan,bayes}/) that defines NAME,
and the Python API (`run`, `load`, `replot`: see experiments/api.py; `table`:
common/export.py; imported on first use). `run.py list` and `--help` read
experiments/catalog.json instead of importing the modules.

Modules are found, not listed by hand, so adding an experiment is adding a
file to its study's package. Order: by study (foundation first), then by name.
"""

import difflib
import importlib
import pkgutil
from types import ModuleType

STUDY_ORDER = ("foundation", "autodiff", "selu", "pruning", "gan", "bayes")


def module_paths() -> list[str]:
    """The dotted path of every module in the study packages."""
    return [f"{__name__}.{study}.{m.name}" for study in STUDY_ORDER
            for m in pkgutil.iter_modules([f"{__path__[0]}/{study}"]) if not m.ispkg]


def all_experiments() -> dict[str, ModuleType]:
    modules = [importlib.import_module(path) for path in module_paths()]
    modules = [m for m in modules if hasattr(m, "NAME")]
    rank = {study: i for i, study in enumerate(STUDY_ORDER)}
    modules.sort(key=lambda m: (rank.get(m.STUDY, len(rank)), m.NAME))
    return {m.NAME: m for m in modules}


def closest(name: str, names) -> list[str]:
    """Likely meant names; a strict cutoff, so an unrelated word gets no suggestion."""
    return difflib.get_close_matches(name, list(names), n=3, cutoff=0.6)


def module_name(name: str) -> str | None:
    """Where experiment `name` lives (`ad-graph`: experiments.autodiff.graph), from
    experiments/catalog.json (no import); None for a name the catalog does not list."""
    from experiments.catalog import entries

    entry = entries().get(name)
    return entry.module if entry is not None else None


def find(name: str) -> ModuleType | None:
    path = module_name(name)
    if path is None:
        return None
    module = importlib.import_module(path)
    return module if getattr(module, "NAME", None) == name else None


_API_NAMES = ("Run", "Sweep", "load", "replot", "run")


def __getattr__(name: str):
    """`experiments.run` and the rest of the API (experiments/api.py), and `experiments.table`
    (common/export.py: finished runs as a pandas DataFrame), are imported on first use, so that
    `import experiments` (the catalog, `run.py list`) imports neither JAX nor pandas."""
    if name in _API_NAMES:
        from experiments import api

        return getattr(api, name)
    if name == "table":
        from common.export import table

        return table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Run", "Sweep", "all_experiments", "closest", "find", "load", "module_name", "module_paths", "replot", "run", "table"]
