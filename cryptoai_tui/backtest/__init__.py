"""Backtests with the live strategy code: a vectorised history engine proved equal to the
live evaluator (vectorised.py), a trade model and its figures (engine.py, report.py), and
parameter sweeps over local processes or a Ray cluster (sweep.py)."""
