"""The studies' methods as pure functions: math, no I/O."""
