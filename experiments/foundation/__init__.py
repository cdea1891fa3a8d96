"""Study: The baselines and the trainer benchmark every study stands on."""
