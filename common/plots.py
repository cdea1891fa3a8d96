"""One house style for figures; each PNG is saved with the data behind it
(an .npz of plain numeric arrays beside it) so it can be redrawn without
retraining. Inside `formats(("png", "pdf"))` every figure is also saved as PDF
(or SVG): vector output for a paper (`--figure-format`)."""

import contextlib
import contextvars
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from common.config import FIGURE_FORMATS  # noqa: E402

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 200,  # a 4.2-inch panel prints at 840 px; PDF/SVG (--figure-format) are vector
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "legend.fontsize": 8,
}


_FORMATS = contextvars.ContextVar("figure_formats", default=("png",))


@contextlib.contextmanager
def formats(chosen: tuple[str, ...]):
    """Save every figure drawn inside in `chosen` (PNG always, and first)."""
    unknown = set(chosen) - set(FIGURE_FORMATS)
    if unknown:
        raise ValueError(f"unknown figure formats {sorted(unknown)}; choose from {FIGURE_FORMATS}")
    token = _FORMATS.set(tuple(dict.fromkeys(["png", *chosen])))
    try:
        yield
    finally:
        _FORMATS.reset(token)


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.2, **kwargs):
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kwargs)
    return fig, axes


def save(fig, directory: Path, name: str, **data) -> Path:
    """Write `name`.png (and .pdf / .svg inside `formats`) and `name`.npz (the
    arrays drawn) into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(STYLE):
        fig.tight_layout()
        for suffix in _FORMATS.get():
            fig.savefig(directory / f"{name}.{suffix}")
    plt.close(fig)
    np.savez(directory / f"{name}.npz", **{k: np.asarray(v) for k, v in data.items()})
    return directory / f"{name}.png"


def seed_band(ax, x, values_by_seed, label: str, **kwargs):
    """Mean over seeds with a +-1 std band; `values_by_seed` is (points, seeds). The axes say once, in
    their lower left corner, what the bands are (the claims' intervals are 95% t intervals, not these)."""
    values = np.asarray(values_by_seed, float)
    mean, std = np.nanmean(values, axis=1), np.nanstd(values, axis=1)
    (line,) = ax.plot(x, mean, label=label, **kwargs)
    ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, linewidth=0)
    if not getattr(ax, "_band_said", False):
        ax.annotate(f"bands: mean ± 1 std over {values.shape[1]} seeds", (0.01, 0.01), xycoords="axes fraction",
                    fontsize=6, color="0.35", va="bottom")
        ax._band_said = True
    return line
