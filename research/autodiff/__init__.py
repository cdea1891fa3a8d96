"""Forward vs reverse mode: jvp/vjp, jacfwd/jacrev, HVPs, remat, forward gradients. Pure functions the
autodiff experiments are built on, and the cost tool a researcher calls on their own function:
`research.autodiff.cost_table` (research/autodiff/costs.py) and `research.autodiff.profile.profile`."""

from research.autodiff.costs import cost_table, format_cost_table

__all__ = ["cost_table", "format_cost_table"]
