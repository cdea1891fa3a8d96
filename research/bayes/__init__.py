"""Bayes by Backprop (Blundell et al. 2015). Pure functions the bayes experiments are built on."""
