"""selu-depth on a shrunk network: the tanh collapse, SELU's convergence from off-fixed-point inputs
(where the linear control stays put) and the backward statistics."""

import dataclasses

import numpy as np

from common import records
from common.experiment import evaluate_claims
from common.runs import Session
from experiments.selu import depth as E
from research.selu import depth_study as study
from research.selu.depth_probe import Variants


def test_selu_depth_shrunk_run(tmp_path):
    # Width 500 fixes the notes' collapse ratio 0.01 sqrt(500); batch, depth and starts are cut.
    config = dataclasses.replace(E.PRESETS["quick"], depth=12, batch=32, probe_batch=16,
                                 start_means=(0.5, 0.0), start_stds=(3.0, 0.3))
    results = E.run(config, Session(None))
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert all(o.control.verdict in (None, "not reproduced") for o in outcomes), [o.control for o in outcomes]
    std = records.get(results, study.COLLAPSE, study.LayerStats).std[:, 0]
    np.testing.assert_allclose(std[1:10] / std[:9], 0.01 * np.sqrt(500), rtol=0.05)
    # From std 3 and 0.3, SELU moves toward 1 while the linear network keeps its start's std.
    selu_last = records.get(results, "SELU", study.FromStarts).start_std[:, :, -1]
    linear_last = records.get(results, "linear", study.FromStarts).start_std[:, :, -1]
    assert np.all(np.abs(selu_last - 1) < 0.1)
    np.testing.assert_allclose(linear_last.mean(1), [np.sqrt(3.0**2 + 0.5**2), 0.3], rtol=0.15)
    # The SELU gradient grows toward the input, ReLU + He stays level.
    selu_grad = records.get(results, "SELU, LeCun", study.Gradient)
    assert np.all(selu_grad.grad_std[0] > 1.2 * selu_grad.grad_std[-1])
    assert selu_grad.grad_gain > records.get(results, "ReLU, He", study.Gradient).grad_gain
    for name in study.SETTINGS:
        layers = records.get(results, name, study.LayerStats)
        assert layers.std.shape == (12, 3)
        assert np.all(np.diff(layers.quantiles, axis=1) >= 0)  # 5% <= 25% <= median <= 75% <= 95%
    E.figures(results, tmp_path)
    assert (tmp_path / "std_per_layer.png").exists() and (tmp_path / "activation_quantiles.png").exists()


def test_variant_weights_are_the_named_initializers_bit_for_bit():
    """The settings run as values in one program: W = std * N(0, 1) must be common.nn's initializer."""
    import jax
    import jax.numpy as jnp

    from common import nn

    named = {study.COLLAPSE: nn.scaled_normal(0.01), study.SATURATE: nn.scaled_normal(1.0), study.XAVIER: nn.xavier_normal,
             "ReLU, He": nn.he_normal, study.SNN: nn.lecun_normal, study.LINEAR_SMALL: nn.scaled_normal(0.01),
             "linear, LeCun normal": nn.lecun_normal}
    shape, key = (500, 500), jax.random.key(7)
    variants = Variants.of(list(study.SETTINGS.values()), shape)
    for index, name in enumerate(study.SETTINGS):
        row = jax.tree.map(lambda a, i=index: a[i], variants.rows)
        ours = jax.jit(lambda r, k: Variants.init(r)(k, shape, jnp.float32))(row, key)
        theirs = jax.jit(lambda k, init=named[name]: init(k, shape, jnp.float32))(key)
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
