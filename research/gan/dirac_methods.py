"""The Dirac-GAN methods gan-dirac compares (Mescheder et al. 2018, Figures 1-3): each one's `dirac_game`
arguments, the paper's eigenvalues at the equilibrium and the reference distances [C]."""

from typing import NamedTuple


class Method(NamedTuple):
    game: dict                               # `dirac_game` arguments
    eigenvalues: tuple[complex, ...] | None  # the paper's at (0, 0); None: R1 (from gamma), WGAN-GP (no Jacobian)
    reference: tuple[float, float]           # |x_500| from (1, 1), simultaneous / alternating [C]


METHODS = {
    "gan": Method({"loss": "gan"}, (0.5j, -0.5j), (3.10, 1.42)),
    "nsgan": Method({"loss": "nsgan"}, (0.5j, -0.5j), (0.64, 0.28)),
    "wgan-clip1": Method({"loss": "wgan", "clip": 1.0}, (1j, -1j), (1.00, 1.02)),
    "wgan-gp": Method({"loss": "wgan", "gp_weight": 0.5, "gp_target": 0.3}, None, (0.43, 0.43)),
    "wgan-gp-0.7": Method({"loss": "wgan", "gp_weight": 0.35, "gp_target": 1.0}, None, (1.80, 1.22)),
    "r1-0.3": Method({"loss": "gan", "r1_gamma": 0.3}, None, (0.0, 0.0)),
    "r1-1": Method({"loss": "gan", "r1_gamma": 1.0}, None, (0.0, 0.0)),
    # J - gamma J^T J with J = [[0, -f'(0)], [f'(0), 0]]: -gamma f'(0)^2 +- f'(0) i.
    "consensus-1": Method({"loss": "gan", "consensus_gamma": 1.0}, (-0.25 + 0.5j, -0.25 - 0.5j), (0.0, 0.0)),
}
LABELS = {"gan": "GAN", "nsgan": "non-saturating GAN", "wgan-clip1": "WGAN (clip 1)",
          "wgan-gp": "WGAN-GP (weight 0.5, target 0.3)", "wgan-gp-0.7": "WGAN-GP (notebook's 0.7, target 1)",
          "r1-0.3": "R1 (gamma 0.3)", "r1-1": "R1 (gamma 1)", "consensus-1": "consensus (gamma 1)"}  # figures' names
UNREGULARIZED = ("gan", "nsgan", "wgan-clip1", "wgan-gp", "wgan-gp-0.7")
NO_JACOBIAN = ("wgan-gp", "wgan-gp-0.7")  # |psi| has a kink at the equilibrium psi = 0
REGULARIZED = ("r1-0.3", "r1-1", "consensus-1")
