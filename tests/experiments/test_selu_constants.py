"""selu-constants on a shrunk config: constants, contraction and dropout moments come out right,
and every run-time control (float32 solve, linear layer, plain and uncorrected dropout) is rejected."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import nn, records
from common.experiment import Results, evaluate, evaluate_claims
from common.runs import Session
from experiments.selu import constants as E
from research.selu import constants_study as study
from research.selu import moment_field as theorem1
from research.selu import snn as selu


def test_selu_constants_shrunk_run_reproduces_every_claim_and_rejects_every_baseline(tmp_path):
    config = dataclasses.replace(E.PRESETS["quick"], seeds=4, dropout_rates=(0.1, 0.3), grid_points=5,
                                 trajectory_steps=30)
    results = E.run(config, Session(None))
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert [o.statement for o in outcomes if o.verdict != "reproduced"] == []
    assert all(o.control.verdict == "not reproduced" for o in outcomes), [o.control for o in outcomes]
    # The float32 solve is off by more than the claim's tolerance but is the same constant.
    assert 1e-10 < abs(records.get(results, "float32", study.Constants).lam - study.PAPER_LAMBDA) < 1e-6
    field = records.get(results, "field", theorem1.Field)
    # 30 iterations of a map contracting by ~0.78 land on the fixed point.
    assert field.final_distance < 1e-2
    assert field.spectral_norm_worst_omega_tau.shape == (5, 5)
    assert np.all(field.spectral_norm_worst_omega_tau >= field.spectral_norm)
    assert records.get(results, "plain", selu.Moments).var.shape == (2, 4)
    E.figures(results, tmp_path)
    assert (tmp_path / "moment_map.png").exists() and (tmp_path / "dropout_variance.png").exists()


@pytest.mark.parametrize("constant", ["SELU_LAMBDA", "SELU_ALPHA"])
def test_a_constant_changed_by_1e_9_fails_its_claim(monkeypatch, constant):
    """The constants claims read what the code uses: common.nn's definition, read at run time by
    common.nn.selu and research.selu.snn."""
    monkeypatch.setattr(nn, constant, getattr(nn, constant) * (1 + 1e-9))
    results = Results()
    study.solve_constants(results)
    verdicts = [evaluate(claim, results).verdict for claim in E.CLAIMS[:2]]
    assert verdicts == (["not reproduced", "reproduced"] if constant == "SELU_LAMBDA"
                        else ["reproduced", "not reproduced"])


def test_tanh_and_elu_do_not_map_omega_into_itself():
    with jax.enable_x64(True):
        margins = {name: theorem1.margin(theorem1.box_image(moments, 5), *study.OMEGA)
                   for name, moments in study.IMAGES.items()}
        # The quadrature is exact for polynomials: z ~ N(m, s) has E z^2 = m^2 + s, Var z^2 = 4 m^2 s + 2 s^2.
        m, s = 0.05 * 0.1, 1.2 * 1.05
        np.testing.assert_allclose(theorem1.quadrature_moment_map(jnp.square)(0.05, 1.2, 0.1, 1.05),
                                   [m**2 + s, 4 * m**2 * s + 2 * s**2], rtol=1e-12)
    assert margins["g of SELU"] > 0 > max(margins["g of ELU (alpha = lambda = 1)"], margins["g of tanh"])
