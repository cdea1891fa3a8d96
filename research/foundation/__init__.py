"""Foundation: the programs the trainer benchmark times against one another. Builds programs, no I/O."""
