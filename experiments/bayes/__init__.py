"""Study: Bayes by Backprop (Blundell et al. 2015)."""
