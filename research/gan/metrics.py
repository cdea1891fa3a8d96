"""Mode-coverage metrics for Gaussian-mixture GANs (Srivastava et al. 2017, VEEGAN, section 5.1).

A sample is *high quality* when it lies within `threshold` (3) standard
deviations of its nearest mode; a mode is *captured* when it is the nearest
mode of at least one high-quality sample. All functions are jittable and vmap
over a leading seed axis.
"""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common.data.synthetic import grid_centers, ring_centers, sample_mixture

NOISE_TAG = 0x0015E  # fold_in tag of the run-time controls' samples
DATASETS = ("ring", "grid")
CENTERS = {"ring": lambda: ring_centers(8, 2.0), "grid": lambda: grid_centers(5, 2.0)}  # VEEGAN's two mixtures


def nearest_mode(samples_NxD: jax.Array, centers_MxD: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Index of each sample's nearest center, shape (N,), and the distance to it, shape (N,)."""
    sq_NxM = jnp.sum((samples_NxD[:, None, :] - centers_MxD[None, :, :]) ** 2, axis=-1)
    index_N = jnp.argmin(sq_NxM, axis=-1)
    return index_N, jnp.sqrt(jnp.take_along_axis(sq_NxM, index_N[:, None], axis=-1)[:, 0])


def mode_coverage(
    samples_NxD: jax.Array, centers_MxD: jax.Array, std: float, threshold: float = 3.0
) -> dict[str, jax.Array]:
    """VEEGAN's metrics: modes captured (count), share of high-quality samples, and per-mode hits.

    Non-finite samples count as low quality.
    """
    index_N, dist_N = nearest_mode(samples_NxD, centers_MxD)
    high_quality_N = jnp.isfinite(dist_N) & (dist_N < threshold * std)
    hits_M = jnp.sum(
        jax.nn.one_hot(index_N, centers_MxD.shape[0]) * high_quality_N[:, None], axis=0
    )
    return {
        "modes_captured": jnp.sum(hits_M > 0),
        "high_quality": jnp.mean(high_quality_N),
        "hits_per_mode": hits_M,
    }


def covered_modes(hits_M: jax.Array, high_quality: jax.Array, min_count: int, floor: float) -> jax.Array:
    """Modes holding at least `min_count` high-quality samples, counted only when the
    high-quality share is at least `floor` (else 0).

    VEEGAN's count (min_count 1, no floor) rewards spread: an untrained N(0, I)
    blob lands a few of 2500 samples near most ring modes at std 0.05. A minimum
    count per mode and a floor on the share make a diffuse generator score 0.
    """
    return jnp.where(high_quality >= floor, jnp.sum(hits_M >= min_count), 0)


def mode_kl(hits_M: jax.Array) -> jax.Array:
    """KL(generated mode histogram || uniform) over the high-quality samples, in nats.

    0 when every mode holds the same share; log M when one mode holds all;
    NaN when there is no high-quality sample.
    """
    total = jnp.sum(hits_M)
    p = hits_M / jnp.where(total > 0, total, 1.0)
    kl = jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0) * hits_M.shape[0]), 0.0))
    return jnp.where(total > 0, kl, jnp.nan)


def sample_metrics(samples_NxD: jax.Array, centers_MxD: jax.Array, std: float, min_count: int,
                   floor: float) -> dict[str, jax.Array]:
    """Every mode metric of one set of samples: VEEGAN's modes captured and HQ share, covered modes
    (`covered_modes`), KL(mode histogram || uniform) and the HQ hits per mode (jittable)."""
    metrics = mode_coverage(samples_NxD, centers_MxD, std)
    hits = metrics["hits_per_mode"]
    return {
        "modes": metrics["modes_captured"].astype(jnp.float32),
        "high_quality": metrics["high_quality"],
        "covered": covered_modes(hits, metrics["high_quality"], min_count, floor).astype(jnp.float32),
        "kl": mode_kl(hits),
        "hits": hits,
    }


def scored(config, samples_NxD: jax.Array, centers_MxD: jax.Array) -> dict[str, jax.Array]:
    """`sample_metrics` at a config's std, min_count and hq_floor."""
    return sample_metrics(samples_NxD, centers_MxD, config.std, config.min_count, config.hq_floor)


@partial(jax.jit, static_argnums=0)
def control_metrics(config, centers_MxD: jax.Array) -> dict[str, dict]:
    """The controls scored like a generator, one set of `eval_samples` per seed (one program): an untrained
    N(0, I) generator ("noise") and the data itself ("data")."""
    draw = {"noise": lambda key: jax.random.normal(key, (config.eval_samples, 2)),
            "data": lambda key: sample_mixture(key, centers_MxD, config.eval_samples, config.std)}
    keys = jax.random.split(jax.random.fold_in(jax.random.key(config.seed), NOISE_TAG), config.seeds)
    return {kind: jax.vmap(lambda key, sample=sample: scored(config, sample(key), centers_MxD))(keys)
            for kind, sample in draw.items()}


class Hopping(NamedTuple):
    """Mode hopping along training (Metz et al. 2016, Figure 1: the plain GAN moves its mass from mode to
    mode). `mode` (points, seeds): the mode holding the most HQ samples where it holds at least `majority`
    of them and at least `floor` of all samples, else -1; `share` (points, seeds): that top mode's share of
    all samples; `switches` (seeds,): how often the held mode changes from one held evaluation to the next."""

    mode: np.ndarray
    share: np.ndarray
    switches: np.ndarray


def mode_hopping(hits_PxSxM: np.ndarray, samples: int, floor: float, majority: float = 0.5) -> Hopping:
    """The dominant mode at each evaluation of each seed and its switches (see `Hopping`); host-side numpy."""
    hits = np.nan_to_num(np.asarray(hits_PxSxM, float))
    top, total = hits.max(axis=-1), hits.sum(axis=-1)
    held = (top >= floor * samples) & (top >= majority * total) & (top > 0)
    mode = np.where(held, hits.argmax(axis=-1), -1)
    switches = np.array([np.count_nonzero(np.diff(column[column >= 0])) for column in mode.T])
    return Hopping(mode, top / samples, switches)


class Coverage(NamedTuple):
    """Mode metrics at each evaluation (points, seeds), `hits` (points, seeds, modes)."""

    modes: np.ndarray
    high_quality: np.ndarray
    covered: np.ndarray
    kl: np.ndarray
    hits: np.ndarray


def reference(config, dataset: str, kind: str) -> Coverage:
    """One run-time control's metrics (`control_metrics`) as one evaluation of every seed."""
    measured = control_metrics(config, CENTERS[dataset]())[kind]
    return Coverage(*(np.asarray(measured[name])[None] for name in Coverage._fields))
