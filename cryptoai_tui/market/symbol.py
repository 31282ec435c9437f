"""Symbols as users type them and as exchanges list them."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import Enum
from typing import Iterable

_KNOWN_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USD", "BTC", "ETH", "BNB", "EUR", "TRY", "DAI")


class MarketKind(str, Enum):
    """Spot or USD-margined linear derivatives (Binance USD-M futures, Bybit linear)."""

    SPOT = "spot"
    LINEAR = "linear"


@dataclass(frozen=True, slots=True)
class Symbol:
    """One tradable pair as an exchange lists it."""

    name: str
    base: str
    quote: str
    status: str = "TRADING"

    @property
    def trading(self) -> bool:
        return self.status.upper() in ("TRADING",)


@dataclass(frozen=True, slots=True)
class SymbolRef:
    """A user's symbol reduced to the exchange spelling, plus what kind of market it implies.

    `kind` is None when the text says nothing about it (ETHUSDT), LINEAR for ccxt's
    `ETH/USDT:USDT` settle-coin notation.
    """

    name: str
    base: str | None = None
    quote: str | None = None
    kind: MarketKind | None = None


_SEPARATED = re.compile(r"^([A-Za-z0-9]+)[/\-_]([A-Za-z0-9]+)(?::([A-Za-z0-9]+))?$")
_PLAIN = re.compile(r"^[A-Za-z0-9]+$")


def parse_symbol(text: str) -> SymbolRef:
    """Accept `ETHUSDT`, `ethusdt`, `ETH/USDT`, `ETH-USDT` and ccxt's `ETH/USDT:USDT`."""
    cleaned = text.strip()
    match = _SEPARATED.match(cleaned)
    if match:
        base, quote, settle = (g.upper() if g else None for g in match.groups())
        assert base is not None and quote is not None
        kind = MarketKind.LINEAR if settle else None
        return SymbolRef(name=f"{base}{quote}", base=base, quote=quote, kind=kind)
    if _PLAIN.match(cleaned):
        name = cleaned.upper()
        base, quote = split_pair(name)
        return SymbolRef(name=name, base=base, quote=quote)
    raise ValueError(
        f"Cannot read symbol {text!r}: use a pair like ETHUSDT, ETH/USDT or ETH/USDT:USDT."
    )


def split_pair(name: str) -> tuple[str | None, str | None]:
    """Guess base and quote of a concatenated name by its quote suffix (display only)."""
    for quote in _KNOWN_QUOTES:
        if name.endswith(quote) and len(name) > len(quote):
            return name[: -len(quote)], quote
    return None, None


def close_matches(name: str, candidates: Iterable[str], limit: int = 5) -> list[str]:
    """Names a user probably meant: same base first, then by spelling distance."""
    pool = list(candidates)
    upper = name.upper()
    base, _ = split_pair(upper)
    same_base = [c for c in pool if base and c.startswith(base)][:limit]
    fuzzy = difflib.get_close_matches(upper, pool, n=limit, cutoff=0.6)
    ordered: list[str] = []
    for candidate in fuzzy + same_base:
        if candidate not in ordered:
            ordered.append(candidate)
    return ordered[:limit]
