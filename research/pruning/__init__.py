"""Pruning vs training from scratch (Liu et al. 2019) and lottery tickets (Frankle & Carbin 2019). Pure functions the pruning experiments are built on."""
