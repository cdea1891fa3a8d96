"""The experiment registry: every module in this package that defines NAME,
and the Python API (`run`, `load`, `replot`: see experiments/api.py; `table`:
common/export.py; imported on first use). `run.py list` and `--help` read
experiments/catalog.json instead of importing the modules.

Modules are found, not listed by hand, so adding an experiment is adding a
file. Order: by study (foundation first), then by name.
"""

import difflib
import importlib
import pkgutil
from types import ModuleType

STUDY_ORDER = ("foundation", "autodiff", "selu", "pruning", "gan", "bayes")


def all_experiments() -> dict[str, ModuleType]:
    modules = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]
    modules = [m for m in modules if hasattr(m, "NAME")]
    rank = {study: i for i, study in enumerate(STUDY_ORDER)}
    modules.sort(key=lambda m: (rank.get(m.STUDY, len(rank)), m.NAME))
    return {m.NAME: m for m in modules}


def closest(name: str, names) -> list[str]:
    """Likely meant names; a strict cutoff, so an unrelated word gets no suggestion."""
    return difflib.get_close_matches(name, list(names), n=3, cutoff=0.6)


def module_name(name: str) -> str:
    """Experiment `ad-graph` lives in `experiments/ad_graph.py`."""
    return name.replace("-", "_")


def find(name: str) -> ModuleType | None:
    if not module_name(name).isidentifier():
        return None
    try:
        module = importlib.import_module(f"{__name__}.{module_name(name)}")
    except ModuleNotFoundError as error:
        if error.name == f"{__name__}.{module_name(name)}":
            return None
        raise
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


__all__ = ["Run", "Sweep", "all_experiments", "closest", "find", "load", "module_name", "replot", "run", "table"]
