"""Where in the sources the autodiff study's claims are stated (`Claim.where`): a location, never a quote.

A location marked RECALLED was written from memory of the source, not checked against it
(/work/shared/REFERENCES.md marks which numbers were read).
"""

from common.experiment import RECALLED

GW = "Griewank & Walther 2008, Evaluating Derivatives (2nd ed.)"
COOKBOOK = "JAX Autodiff Cookbook"

CHEAP_GRADIENT = (f"{GW}, Ch. 4 (complexity bounds: OPS of a gradient within a small constant of f's; Baur & "
                  f"Strassen 1983 for arithmetic); 'within a factor of 5' as Kakade & Lee 2018 quote it{RECALLED}")
CHEAP_GRADIENT_MOVES = (f"{GW}, Ch. 4 (the complexity measure counts memory MOVES beside OPS; the gradient's bound "
                        f"holds for the combined cost){RECALLED}")
REVERSE_MEMORY = f"{GW}, Ch. 4 (reverse mode stores a tape growing with the operations of f){RECALLED}"
CHECKPOINTING = (f"{GW}, Ch. 12 (reversal schedules and checkpointing); Griewank 1992 (logarithmic growth); "
                 f"Chen et al. 2016, arXiv 1604.06174, Sec. 4 (sqrt(n) segments, one extra forward pass){RECALLED}")
FORWARD_MEMORY = f"{GW}, Ch. 3-4 (a tangent sweep's memory is a constant multiple of f's){RECALLED}"
JACFWD_JACREV = f"{COOKBOOK}, 'Jacobians and Hessians using jacfwd and jacrev' (tall vs wide Jacobians)"
JVP_VJP = (f"{COOKBOOK}, 'How it's made: two foundational autodiff functions' (jacfwd: one jvp per input; "
           "jacrev: one vjp per output)")
HVP = f"{COOKBOOK}, 'Hessian-vector products using both forward- and reverse-mode' (the four forms, timed)"
PEARLMUTTER = (f"Pearlmutter 1994, Fast Exact Multiplication by the Hessian, Abstract and Sec. 3 (the R "
               f"operator){RECALLED}")
NOTES_GRAPH = ("the project's notes/ (backpropagation: c = a + b, d = b + 1, e = c d at a = 2, b = 1); the same "
               "graph in Olah 2015, 'Calculus on Computational Graphs: Backpropagation'")
PATH_SUM = ("the project's notes/ (summing over paths against factoring them); Olah 2015, 'Calculus on "
            "Computational Graphs', 'Factoring Paths'")
MODES = (f"Baydin et al. 2018, Automatic Differentiation in Machine Learning: a Survey (JMLR), Sec. 3.1-3.2 "
         f"(forward mode: n evaluations for a gradient; reverse mode: one){RECALLED}")
BAYDIN = "Baydin et al. 2022, Gradients without Backpropagation"
FORWARD_UNBIASED = f"{BAYDIN}, Sec. 3.1, Definition 1 and Theorem 1 (the forward gradient is unbiased){RECALLED}"
COSINE_LAW = ("not in Baydin et al. 2022: the cosine law of a uniform random direction, derived here "
              "(research/autodiff/forward_gradient.py, expected_cosine)")
FORWARD_SPEED = f"{BAYDIN}, Abstract ('up to twice as fast') and Sec. 5 (runtime against backprop){RECALLED}"
FORWARD_TRAINING = f"{BAYDIN}, Sec. 5 (loss against iterations, forward gradient beside backprop){RECALLED}"
