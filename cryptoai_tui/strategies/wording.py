"""How numbers read in a signal's reason line: short, with precision that suits the price."""

from __future__ import annotations


def price_text(value: float) -> str:
    """Two decimals for prices like BTC's, more for coins that trade below 1 USDT."""
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.2f}"
    if magnitude >= 1:
        return f"{value:.4g}" if magnitude < 10 else f"{value:.2f}"
    return f"{value:.6g}"
