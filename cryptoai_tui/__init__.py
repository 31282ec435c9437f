"""cryptoai-tui: a keyboard-driven terminal Strategy Lab for crypto markets."""

__version__ = "0.1.0"
