"""The asset picker's order and filter."""

from __future__ import annotations

from cryptoai_tui.market import Symbol
from cryptoai_tui.tui.asset_search import filter_assets, order_assets

LISTING = [
    Symbol("ARBUSDT", "ARB", "USDT"),
    Symbol("ETHBTC", "ETH", "BTC"),
    Symbol("ETHUSDT", "ETH", "USDT"),
    Symbol("BTCUSDT", "BTC", "USDT"),
    Symbol("OLDUSDT", "OLD", "USDT", status="BREAK"),
    Symbol("SOLUSDC", "SOL", "USDC"),
    Symbol("SETHUSDT", "SETH", "USDT"),
]


def test_favourites_come_first_then_the_rest_by_name_and_halted_pairs_are_hidden() -> None:
    names = [entry.symbol.name for entry in order_assets(LISTING)]
    assert names == ["BTCUSDT", "ETHUSDT", "SOLUSDC", "ARBUSDT", "ETHBTC", "SETHUSDT"]
    assert [entry.favourite for entry in order_assets(LISTING)][:4] == [True, True, True, False]


def test_filter_accepts_the_ways_people_type_pairs() -> None:
    ordered = order_assets(LISTING)
    for query in ("eth/usdt", "ETH-USDT", "eth usdt", "ethusdt"):
        assert [e.symbol.name for e in filter_assets(ordered, query)] == ["ETHUSDT", "SETHUSDT"]


def test_filter_puts_prefix_matches_before_substring_matches() -> None:
    names = [e.symbol.name for e in filter_assets(order_assets(LISTING), "eth")]
    assert names == ["ETHUSDT", "ETHBTC", "SETHUSDT"]


def test_empty_filter_keeps_everything_and_no_match_is_empty() -> None:
    ordered = order_assets(LISTING)
    assert filter_assets(ordered, "  ") == ordered
    assert filter_assets(ordered, "zzz") == []


def test_entry_shows_base_and_quote() -> None:
    assert order_assets(LISTING)[0].pair == "BTC / USDT"
