"""The six classic indicator strategies (TA-Lib indicators, crossover events)."""
