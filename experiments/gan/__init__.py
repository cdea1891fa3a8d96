"""Study: GAN convergence: Dirac-GAN, mixtures, regularizers, the game's eigenvalues."""
