"""Infrastructure that knows nothing of any study: config, data, models, trainer, runs, report."""
