"""gan-dirac's records: each method's settings and radii per update order, its field and its eigenvalues."""

import math
from typing import NamedTuple

import numpy as np

from common import records
from common.experiment import Results
from research.gan import dirac
from research.gan.dirac_methods import METHODS


class Radius(NamedTuple):  # where the field has a Jacobian at (0, 0)
    spectral_radius: float  # of the update linearized there, float64


class Equilibrium(NamedTuple):  # NaN eigenvalues where none is claimed (WGAN-GP)
    field: np.ndarray        # (grid, grid, 2) on the plot's lattice
    eigenvalues: np.ndarray  # (2,) of the field's Jacobian at (0, 0), jacfwd, float64, sorted by imaginary part
    closed_form: np.ndarray  # (2,) the paper's


class Agreement(NamedTuple):  # where the paper gives the eigenvalues
    eigen_error: float  # max |computed - closed form|


def put_method(results: Results, name: str, simulation: dirac.Simulation, linearized: dict) -> None:
    """One method's records: its settings (and radii) per order, its field and its eigenvalues."""
    computed = np.full(2, math.nan, complex)
    expected = dirac.by_imaginary_part(np.asarray(METHODS[name].eigenvalues or computed, complex))
    for mode in dirac.MODES:
        records.put(results, records.key(name, mode), simulation.settings[name][mode])
    if name in linearized:
        for mode, radius in linearized[name].spectral_radii().items():
            records.put(results, records.key(name, mode), Radius(radius))
        computed = linearized[name].eigenvalues
        expected = expected if linearized[name].r1_closed_form is None else linearized[name].r1_closed_form
    records.put(results, name, Equilibrium(simulation.fields[name], computed, expected))
    if not np.isnan(expected).any():
        records.put(results, name, Agreement(float(np.max(np.abs(computed - expected)))))
