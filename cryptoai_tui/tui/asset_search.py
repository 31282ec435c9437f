"""Ordering and filtering an exchange's symbol list for the asset picker.

Exchanges list thousands of pairs in no useful order; traders mostly want a handful of
big coins quoted in a stablecoin, so those come first, and typing narrows the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Iterable, Sequence

from cryptoai_tui.market.symbol import Symbol

FAVOURITE_BASES = ("BTC", "ETH", "SOL", "BNB", "XRP", "DOGE", "ADA", "AVAX", "LINK", "TON")
PREFERRED_QUOTES = ("USDT", "USDC", "USD", "FDUSD")


@dataclass(frozen=True, slots=True)
class AssetEntry:
    symbol: Symbol
    favourite: bool  # a popular pair (FAVOURITE_BASES in a stablecoin): listed early
    starred: bool = False  # one of the user's own favourites (★, listed first, remembered)

    @property
    def pair(self) -> str:
        return f"{self.symbol.base} / {self.symbol.quote}"


def _favourite_rank(symbol: Symbol) -> tuple[int, int] | None:
    if symbol.base not in FAVOURITE_BASES or symbol.quote not in PREFERRED_QUOTES:
        return None
    return FAVOURITE_BASES.index(symbol.base), PREFERRED_QUOTES.index(symbol.quote)


def order_assets(symbols: Iterable[Symbol], starred: Collection[str] = ()) -> list[AssetEntry]:
    """Trading symbols only: the user's starred ones first (by name), then the popular pairs
    (in FAVOURITE_BASES order), then the rest by name."""
    favourites: list[tuple[tuple[int, int], Symbol]] = []
    rest: list[Symbol] = []
    mine: list[Symbol] = []
    for symbol in symbols:
        if not symbol.trading:
            continue
        if symbol.name in starred:
            mine.append(symbol)
            continue
        rank = _favourite_rank(symbol)
        if rank is None:
            rest.append(symbol)
        else:
            favourites.append((rank, symbol))
    favourites.sort(key=lambda item: item[0])
    rest.sort(key=lambda symbol: symbol.name)
    mine.sort(key=lambda symbol: symbol.name)
    return [AssetEntry(symbol, _favourite_rank(symbol) is not None, True) for symbol in mine] + [
        AssetEntry(symbol, True) for _, symbol in favourites] + [
        AssetEntry(symbol, False) for symbol in rest
    ]


def filter_assets(entries: Sequence[AssetEntry], query: str) -> list[AssetEntry]:
    """Entries matching what the user typed; `eth/usdt`, `eth usdt` and `ETHUSDT` all match.

    Names that start with the query come before names that merely contain it, keeping the
    favourites-first order inside each group.
    """
    needle = "".join(ch for ch in query.upper() if ch.isalnum())
    if not needle:
        return list(entries)
    starts: list[AssetEntry] = []
    contains: list[AssetEntry] = []
    for entry in entries:
        name = entry.symbol.name.upper()
        if name.startswith(needle) or entry.symbol.base.upper() == needle:
            starts.append(entry)
        elif needle in name:
            contains.append(entry)
    return starts + contains
