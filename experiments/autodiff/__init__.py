"""Study: Forward vs reverse mode: jvp/vjp, jacfwd/jacrev, HVPs, remat, forward gradients."""
