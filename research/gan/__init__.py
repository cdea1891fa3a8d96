"""GAN convergence: Dirac-GAN, mixtures, regularizers, the game's eigenvalues. Pure functions the gan experiments are built on."""
