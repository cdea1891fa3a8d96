"""Study: Self-normalizing networks (Klambauer et al. 2017)."""
