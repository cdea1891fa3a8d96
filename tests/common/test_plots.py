"""The house plots say what their bands are."""

import numpy as np

from common import plots


def test_seed_bands_say_once_what_they_are():
    fig, axes = plots.new_figure()
    ax = np.ravel(axes)[0]
    for offset in (0.0, 1.0):
        plots.seed_band(ax, np.arange(4), np.random.default_rng(0).random((4, 3)) + offset, f"arm {offset}")
    assert [t.get_text() for t in ax.texts] == ["bands: mean ± 1 std over 3 seeds"]
