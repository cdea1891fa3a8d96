"""Study: Pruning vs training from scratch (Liu et al. 2019) and lottery tickets (Frankle & Carbin 2019)."""
