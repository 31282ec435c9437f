"""The signal journal: every confirmed signal in a SQLite file, graded as later candles close.

`store` (schema, migrations, paged queries), `writer` (the one writer thread, off the hot
path), `grading` (returns after +1/+5/+20 candles), `entry` (the stored value). The engine
never imports this package; front ends feed it confirmed signals.
"""
