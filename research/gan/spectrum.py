"""The rightmost eigenvalue of the Jacobian of a GAN method's own field along training, and where its sign
means something (Mescheder et al. 2017, section 3: a stationary point attracts locally when every eigenvalue
of the Jacobian has a negative real part; away from one the sign only says where the field turns)."""

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np
import optax

from common import records, stats
from common.experiment import NotRunAtPreset, Results
from research.gan.game import FieldSpectrum, GanBatch
from research.gan.methods import (
    EVAL_TAG,
    Players,
    Recipe,
    batch_sampler,
    first,
    method_game,
    players,
    recipe,
    weights_of,
)
from research.gan.optional_records import present


class SpectrumProbe:
    """Max Re(lambda) of the Jacobian of a method's own field and ||v||, at one seed's state, on one fixed
    batch (compiled once per method: the points of a trajectory differ only in value)."""

    def __init__(self, method: str, players: Players, recipe: Recipe, unroll_steps: int, batch: GanBatch,
                 iterations: int):
        # The recipe's discriminator rate and weights enter as constants; aux: the discriminator's plain Adam
        # state, which unrolling reads.
        d_opt = optax.adam(recipe.lr_d, b1=recipe.betas[0], b2=recipe.betas[1])
        _, _, make_field = method_game(method, players, d_opt, weights_of(recipe), unroll_steps)
        self.spectrum = FieldSpectrum(make_field)
        self.batch = batch
        self.iterations = iterations

    def point(self, g_params, d_params, d_adam_state) -> tuple[float, float]:
        """(max Re lambda, ||v||) at one seed's point; max Re lambda NaN where ARPACK has not converged."""
        args = (g_params, d_params, d_adam_state, self.batch)
        values = self.spectrum.rightmost(*args, k=1, tol=1e-2, maxiter=self.iterations)
        return (float(values.real.max()) if values.size else float("nan")), self.spectrum.norm(*args)

    def seeds(self, states, tracked: int, scheduled: Callable[[int], bool]) -> dict[str, np.ndarray]:
        """Both at the first `tracked` runs of `states` (leading runs axis), NaN for the others and where
        `scheduled(step)` is false: the trainer's `observe` hook at every evaluation."""
        steps = np.asarray(states.step)
        eigen, norm = np.full(steps.shape[0], np.nan), np.full(steps.shape[0], np.nan)
        if scheduled(int(steps[0])):
            # one seed's point sliced on the host (slicing device arrays compiles a program per leaf shape)
            points = jax.tree.map(np.asarray, (states.params["g"], states.params["d"],
                                               states.opt_state["d"].inner_state))
            for i in range(min(tracked, steps.shape[0])):
                eigen[i], norm[i] = self.point(*jax.tree.map(lambda a, i=i: a[i], points))
        return {"max_real_eigen": eigen, "field_norm": norm}


def probes(config, methods, centers, seed: int, batch_size: int, iterations: int) -> dict[str, SpectrumProbe]:
    """One probe per method of a config's recipes, on one fixed batch drawn op by op (under jit its normal draws
    differ in the last bit)."""
    key = jax.random.fold_in(jax.random.key(seed), EVAL_TAG)
    batch = first(batch_sampler(batch_size, config.z_dim, config.std)(centers, key, 0))
    return {m: SpectrumProbe(m, players(config), recipe(m, config), config.unroll_steps, batch, iterations)
            for m in methods}


def stationary(field_norm_TxS: np.ndarray, ratio: float) -> np.ndarray:
    """Points whose ||v|| is at most `ratio` x its value at step 0 (row 0), per seed."""
    return field_norm_TxS <= ratio * field_norm_TxS[:1]


def reading(max_real_eigen: float, relative_norm: float, ratio: float, matches_data: bool) -> str:
    """What the rightmost eigenvalue says at a seed's end: its sign is a verdict only at a stationary point
    (norm(v) <= `ratio` x norm(v_0)) whose samples cover every mode."""
    if not relative_norm <= ratio:
        return f"not stationary (norm(v) = {relative_norm:.2g} norm(v_0))"
    if not matches_data:
        return "stationary, samples miss modes: not read"
    if not np.isfinite(max_real_eigen):
        return "no eigenvalue"
    return "not locally attracting" if max_real_eigen > 0 else "locally attracting"


def attraction_at_end(max_real_eigen_TxS: np.ndarray, field_norm_TxS: np.ndarray, matches_data_S: np.ndarray,
                      ratio: float) -> stats.Measurement:
    """Mean over the tracked seeds that END at a stationary point (||v|| <= ratio x ||v_0||) whose samples match
    the data of max Re(lambda) there (t interval); NaN, with the reason, when no seed does: elsewhere the sign
    of an eigenvalue is no verdict on attraction."""
    norm = field_norm_TxS
    read = stationary(norm, ratio)[-1] & np.asarray(matches_data_S, bool)
    if not read.any():
        ends = norm[-1] / norm[0]
        return stats.Measurement(float("nan"), stats.WHOLE_LINE, "not read: no tracked seed ends both stationary and "
                                 f"with every mode covered ({int(np.sum(ends <= ratio))} of {ends.size} end stationary, "
                                 f"norm(v) / norm(v_0) = {', '.join(f'{x:.2g}' for x in ends)} against <= {ratio:g}; "
                                 f"{int(np.sum(matches_data_S))} of {ends.size} cover every mode)", 0)
    m = stats.mean(max_real_eigen_TxS[-1][read])
    return dataclasses.replace(m, how=f"{m.how}; {int(read.sum())} of {read.size} tracked seeds end stationary "
                               "with every mode covered")


class Spectrum(NamedTuple):
    """One method's tracked points: steps (points,), max Re(lambda) and ||v|| (points, eigen_seeds), and
    whether each tracked seed's final samples match the data (every mode covered)."""

    eigen_step: np.ndarray
    max_real_eigen: np.ndarray
    field_norm: np.ndarray
    matches_data: np.ndarray  # (eigen_seeds,) bool


def spectrum_row(spectrum: Spectrum, ratio: float) -> dict:
    """A table row: max Re(lambda) at step 0 and at the end, the end's ||v|| / ||v_0||, the seeds matching the
    data, and what each seed's end reading says (`reading`, stationary at `ratio`)."""
    norm, eigen = spectrum.field_norm, spectrum.max_real_eigen
    relative = norm / norm[:1]
    return {"max Re(lambda) at step 0": f"{stats.mean(eigen[0]):.3g}",
            "at the end": f"{stats.mean(eigen[-1]):.3g}",
            "norm(v) / norm(v_0) at the end (geometric)": f"{stats.geometric_mean(relative[-1]):.3g}",
            "samples match the data (all modes covered)": f"{int(spectrum.matches_data.sum())} of "
            f"{spectrum.matches_data.size} seeds",
            "end reading per seed": "; ".join(reading(e, r, ratio, m) for e, r, m in zip(
                eigen[-1], relative[-1], spectrum.matches_data))}


def trajectory(dataset: str, method: str, eigen_TxS, norm_TxS, matches: bool = True) -> Results:
    """Results holding one method's tracked eigenvalue and ||v|| trajectories (points x seeds)."""
    results = Results(arrays={"stationary_ratio": np.asarray(0.05)})
    eigen = np.asarray(eigen_TxS, float)
    records.put(results, records.key(dataset, method), Spectrum(
        np.arange(len(eigen)), eigen, np.asarray(norm_TxS, float), np.full(eigen.shape[1], matches)))
    return results


def end_eigen_at_rest(dataset: str, method: str) -> Callable[[Results], stats.Measurement]:
    """gan-eigen's claims' measure: `attraction_at_end` on the method's tracked seeds; not run where it has none."""
    def measure(r: Results) -> stats.Measurement:
        spectrum = present(r, records.key(dataset, method), Spectrum)
        if spectrum is None:
            raise NotRunAtPreset("quick", f"this run has no {method} max_real_eigen on the {dataset}")
        return attraction_at_end(spectrum.max_real_eigen, spectrum.field_norm, spectrum.matches_data,
                                 float(r.arrays["stationary_ratio"]))

    return measure


def eigen_at_start(dataset: str, method: str) -> Callable[[Results], stats.Measurement]:
    """A run-time control: max Re(lambda) at step 0 (the untrained pair, far from any stationary point), mean
    over the tracked seeds."""
    return lambda r: stats.mean(records.get(r, records.key(dataset, method), Spectrum).max_real_eigen[0])
