"""gan-dirac's claims' controls: the exact numbers the claims read, each claim's control as measured in the
run itself (the other methods it integrates, a perturbed closed form, the other update order's reference) and
the synthetic cases of the contract test."""

import math
from collections.abc import Callable

import numpy as np

from common import records, stats
from common.experiment import NotRunAtPreset, Results
from research.gan import dirac
from research.gan.dirac_methods import METHODS, REGULARIZED, UNREGULARIZED
from research.gan.dirac_rates import LOG_RADIUS, negated, rates, worst_rate_ratio
from research.gan.dirac_records import Equilibrium

# exact numbers: GAN, NSGAN, WGAN (clip)'s least radius and largest eigen_error; R1's along gamma; |x_500| - [C]
MIN_RADIUS, MAX_EIGEN = (records.key("unregularized", f) for f in ("min_spectral_radius", "max_eigen_error"))
LOCUS_ERROR, REFERENCE = records.key("locus", "max_error"), records.key("reference", "max_abs_difference")
UNREGULARIZED_SLOPES = {("gan", "simultaneous"): 6.7e-4, ("nsgan", "alternating"): -1.3e-3,
                        ("wgan-gp", "simultaneous"): -3e-5, ("wgan-gp-0.7", "alternating"): 4e-5}
REGULARIZED_SLOPES = {(n, "simultaneous"): v for n, v in LOG_RADIUS.items()}


def exact(key: str, value: float) -> Callable[[], Results]:  # a case holding one exact number
    return lambda: Results(scalars={key: value})


def reference_difference(r: Results) -> float:
    if math.isnan(r.scalars[REFERENCE]):
        raise NotRunAtPreset("quick", "the reference distances are for 500 steps of size 0.2")
    return r.scalars[REFERENCE]


def least_regularized_radius(r: Results) -> float:
    """The least spectral radius of R1's and consensus's updates (both orders, those run): the radius claim's
    control."""
    keys = (records.key(records.key(n, m), "spectral_radius") for n in REGULARIZED for m in dirac.MODES)
    return min(r.scalars[k] for k in keys if k in r.scalars)


def regularized_slope(r: Results) -> stats.Measurement:
    """R1's and consensus's most negative slope: the no-rate claim's reduction on the regularized paths."""
    return stats.smallest(*rates(r, REGULARIZED).values())


def unregularized_slope(r: Results) -> stats.Measurement:
    """The unregularized settings' least negative slope: the convergence claim's reduction on their paths."""
    return negated(stats.smallest(*map(negated, rates(r, UNREGULARIZED).values())))


def rotated_rate_ratio(r: Results) -> float | stats.Measurement:
    """The rate claim's ratio with each setting's slope over ANOTHER method's log radius (the pairing of the
    regularized methods run rotated); NaN where fewer than two ran."""
    names = list(dict.fromkeys(name for name, _ in rates(r, REGULARIZED)))
    return worst_rate_ratio(r, dict(zip(names, names[1:] + names[:1])).get) if len(names) > 1 else math.nan


def perturbed_locus_error(r: Results, fprime0: float = 0.55) -> float:
    """The locus claim's error against the closed form at a wrong f'(0) (the paper's: 1/2), paired as `linearize`."""
    locus = records.get(r, "locus", dirac.Locus)
    root = np.sqrt(locus.gamma**2 / 4 - fprime0**2 + 0j)
    wrong = np.stack([-locus.gamma / 2 + root, -locus.gamma / 2 - root], axis=1)
    return float(np.minimum(np.abs(locus.computed - wrong).max(axis=1),
                            np.abs(locus.computed - wrong[:, ::-1]).max(axis=1)).max())


def r1_against_gan(r: Results) -> float:
    """R1 (gamma 0.3)'s eigenvalues at (0, 0) against the GAN's closed form +-i/2 (Lemma 2.2)."""
    computed = records.get(r, "r1-0.3", Equilibrium).eigenvalues
    return float(np.max(np.abs(computed - dirac.by_imaginary_part(np.asarray(METHODS["gan"].eigenvalues)))))


def swapped_reference(r: Results) -> float:
    """The reference claim's largest gap with each distance read against the OTHER update order's reference."""
    if math.isnan(r.scalars[REFERENCE]):
        return math.nan
    found = [n for n in METHODS if records.key(records.key(n, dirac.MODES[0]), "distance") in r.scalars]
    return max(abs(r.scalars[records.key(records.key(n, m), "distance")] - METHODS[n].reference[1 - i])
               for n in found for i, m in enumerate(dirac.MODES))
