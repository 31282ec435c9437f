"""The simulator's listing: which pairs it serves and what each one is like.

Light on purpose (no numpy): the snapshot apps and `cryptoai-tui sim --help` read the
listing without paying for the price path.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

from cryptoai_tui.market import Symbol
from cryptoai_tui.market.symbol import split_pair


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """A simulated pair: its reference price, daily volatility and daily quote turnover."""

    name: str
    base: str
    quote: str
    price: float
    daily_volatility: float = 0.04
    daily_turnover: float = 5e7

    @property
    def price_decimals(self) -> int:
        return min(max(4 - math.floor(math.log10(self.price)), 2), 8)

    @property
    def volume_decimals(self) -> int:
        """Enough decimals that an average second's volume is thousands of units, so
        splitting volume between seconds never starves a child by rounding."""
        per_second = self.daily_turnover / self.price / 86_400
        return min(max(math.ceil(4 - math.log10(per_second)), 0), 8)

    def as_symbol(self) -> Symbol:
        return Symbol(self.name, self.base, self.quote, "TRADING")


def _spec(name: str, price: float, vol: float, turnover: float) -> SymbolSpec:
    base, quote = split_pair(name)
    assert base is not None and quote is not None
    return SymbolSpec(name, base, quote, price, vol, turnover)


DEFAULT_SYMBOLS: tuple[SymbolSpec, ...] = (
    _spec("BTCUSDT", 65000.0, 0.028, 1.5e9),
    _spec("ETHUSDT", 3200.0, 0.035, 8e8),
    _spec("BNBUSDT", 580.0, 0.03, 1.5e8),
    _spec("SOLUSDT", 150.0, 0.05, 4e8),
    _spec("XRPUSDT", 0.55, 0.04, 2e8),
    _spec("ADAUSDT", 0.45, 0.045, 8e7),
    _spec("DOGEUSDT", 0.12, 0.055, 2e8),
    _spec("AVAXUSDT", 30.0, 0.05, 6e7),
    _spec("DOTUSDT", 6.5, 0.045, 4e7),
    _spec("LINKUSDT", 15.0, 0.045, 6e7),
    _spec("LTCUSDT", 75.0, 0.04, 5e7),
    _spec("TRXUSDT", 0.12, 0.025, 4e7),
    _spec("SHIBUSDT", 0.000018, 0.055, 5e7),
    _spec("UNIUSDT", 8.0, 0.05, 3e7),
    _spec("ATOMUSDT", 8.0, 0.045, 3e7),
    _spec("XLMUSDT", 0.11, 0.04, 2e7),
    _spec("NEARUSDT", 5.0, 0.055, 5e7),
    _spec("APTUSDT", 8.0, 0.055, 4e7),
    _spec("ARBUSDT", 0.9, 0.055, 5e7),
    _spec("OPUSDT", 1.8, 0.055, 4e7),
    _spec("FILUSDT", 5.0, 0.05, 3e7),
    _spec("ETCUSDT", 22.0, 0.045, 3e7),
    _spec("BCHUSDT", 380.0, 0.04, 5e7),
    _spec("SUIUSDT", 1.2, 0.06, 8e7),
    _spec("PEPEUSDT", 0.000009, 0.07, 1e8),
    _spec("INJUSDT", 22.0, 0.06, 3e7),
    _spec("ETHBTC", 0.05, 0.02, 800.0),
    _spec("BNBBTC", 0.009, 0.02, 100.0),
    _spec("SOLBTC", 0.0023, 0.03, 150.0),
    _spec("BTCUSDC", 65000.0, 0.028, 3e8),
    _spec("ETHUSDC", 3200.0, 0.035, 1.5e8),
)
_DEFAULTS_BY_NAME = {spec.name: spec for spec in DEFAULT_SYMBOLS}


def symbol_spec(name: str) -> SymbolSpec:
    """The default spec of a familiar pair, or a plausible one derived from the name."""
    upper = name.strip().upper()
    known = _DEFAULTS_BY_NAME.get(upper)
    if known is not None:
        return known
    if not upper.isalnum() or not 2 <= len(upper) <= 20:
        raise ValueError(
            f"Cannot simulate symbol {name!r}: use letters and digits only, like BTCUSDT or ETHBTC."
        )
    base, quote = split_pair(upper)
    if base is None or quote is None:
        base, quote = upper, "USDT"
    digest = zlib.crc32(upper.encode())
    price = (1 + digest % 9) * 10.0 ** (digest // 9 % 5 - 1)
    return SymbolSpec(upper, base, quote, price, 0.05, 1e7)


def listing_of(count: int) -> tuple[str, ...]:
    """`count` symbol names for a large simulated listing (a watchlist load test): the
    familiar USDT pairs first, then made-up `SIMnnnUSDT` pairs, each of which
    `symbol_spec` prices plausibly. Deterministic, so a benchmark and its simulator (two
    processes) agree on the names without talking."""
    if count < 1:
        raise ValueError(f"A listing needs at least 1 symbol, not {count}.")
    familiar = [spec.name for spec in DEFAULT_SYMBOLS if spec.quote == "USDT"]
    made_up = (f"SIM{index:03d}USDT" for index in range(1, max(count - len(familiar), 0) + 1))
    return tuple([*familiar[:count], *made_up])
