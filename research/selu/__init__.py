"""Self-normalizing networks (Klambauer et al. 2017). Pure functions the selu experiments are built on."""
