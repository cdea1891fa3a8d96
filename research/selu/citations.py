"""Where in the papers the selu study's claims are stated (`Claim.where`): a location, never a quote.

Klambauer et al. 2017 is arXiv 1706.02515 (NeurIPS 2017); its theory section "Self-normalizing Neural
Networks (SNNs)" holds the moment map g, Theorems 1-3 and alpha dropout. A location marked RECALLED was
written from memory of the paper, not checked against the PDF (/work/shared/REFERENCES.md marks which
numbers were read).
"""

from common.experiment import RECALLED

SNN = "Klambauer et al. 2017"

FIXED_POINT = (f"{SNN}, Sec. 2, 'Stable and Attracting Fixed Point (0, 1) for Normalized Weights' (lambda_01, "
               f"alpha_01 to 4 digits; the long digits in the appendix and the reference code){RECALLED}")
JACOBIAN_NORM = (f"{SNN}, Sec. 2, 'Stable and Attracting Fixed Point (0, 1) for Normalized Weights' (J(0, 1) and "
                 f"its spectral norm 0.7877){RECALLED}")
THEOREM_1 = f"{SNN}, Theorem 1 (Sec. 2; the domain Omega and the contraction of g on it){RECALLED}"
THEOREM_1_IMAGE = (f"{SNN}, Theorem 1 and the proof sketch after it (Sec. 2; the bounds of mu~ and nu~ on "
                   f"Omega){RECALLED}")
ALPHA_DROPOUT = f"{SNN}, Sec. 2, 'New Dropout Technique' (alpha dropout's a and b; derived in the appendix){RECALLED}"
NOTEBOOK = ("the reference code bioinf-jku/SNNs, its notebook solving for the (-0.1, 2) fixed point; not stated in "
            "the paper")
ATTRACTS = (f"{SNN}, Theorem 1 (attraction to (0, 1) on Omega) with Theorems 2 and 3 (the variance falls from "
            f"above and rises from below; Sec. 2){RECALLED}")
MOMENT_MAP = f"{SNN}, Sec. 2, 'Deriving the Mean and Variance Mapping Function g' (closed forms of mu~, nu~){RECALLED}"
FIGURE_1 = f"{SNN}, Figure 1 and its caption (training loss, SNN vs BatchNorm at 8, 16, 32 layers, MNIST, CIFAR-10)"
CS231N = ("CS231n, 'Training Neural Networks, Part I', weight initialization (10 tanh layers of 500 units), as "
          f"retold in the project's notes/{RECALLED}")
