"""Price and signal alerts: rules (pure grammar and values), the book that judges them, and the
dispatcher that delivers what fired without flooding or silently losing anything."""
