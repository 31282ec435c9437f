"""Smart Money Concepts patterns, causal: every label is decided by bars already closed."""
