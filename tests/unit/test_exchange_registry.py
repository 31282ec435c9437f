"""Exchange names to protocols, overridden bases, and which symbols fit which market."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cryptoai_tui.cli import EXCHANGES
from cryptoai_tui.exchanges import (
    EXCHANGE_NAMES,
    ExchangeError,
    MarketKindMismatchError,
    get_protocol,
    resolve_symbol,
)
from cryptoai_tui.exchanges.binance import BinanceSpot, BinanceUS, BinanceUsdm
from cryptoai_tui.exchanges.bybit import BybitLinear, BybitSpot
from cryptoai_tui.market import parse_symbol


def test_every_cli_exchange_but_sim_has_a_protocol() -> None:
    assert EXCHANGE_NAMES == ("binance", "binanceus", "binance-futures", "bybit-spot", "bybit-linear")
    assert set(EXCHANGES) - {"sim"} == set(EXCHANGE_NAMES)


@pytest.mark.parametrize("name,cls", [
    ("binance", BinanceSpot), ("binanceus", BinanceUS), ("binance-futures", BinanceUsdm),
    ("bybit-spot", BybitSpot), ("bybit-linear", BybitLinear), (" Binance ", BinanceSpot),
])
def test_get_protocol_builds_the_right_endpoint_set(name: str, cls: type) -> None:
    protocol = get_protocol(name)
    assert type(protocol) is cls
    assert protocol.ws_base == cls.default_ws_base and protocol.rest_base == cls.default_rest_base


def test_unknown_exchange_lists_the_valid_names() -> None:
    with pytest.raises(ValueError) as info:
        get_protocol("kraken")
    assert str(info.value) == (
        "Unknown exchange 'kraken'. Valid exchanges: binance, binanceus, binance-futures, "
        "bybit-spot, bybit-linear.")
    with pytest.raises(ValueError, match="Unknown exchange 'sim'"):
        get_protocol("sim")  # the registry knows only real exchanges; wiring.py knows "sim"


@pytest.mark.parametrize("name,streams,ws", [
    ("binance", ["btcusdt@kline_1m", "ethusdt@kline_1m"],
     "ws://127.0.0.1:8765/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m"),
    ("binance", ["btcusdt@kline_1m"], "ws://127.0.0.1:8765/ws/btcusdt@kline_1m"),
    ("binanceus", ["btcusdt@kline_1m"], "ws://127.0.0.1:8765/ws/btcusdt@kline_1m"),
    ("binance-futures", ["btcusdt@kline_1m", "ethusdt@kline_1m"],
     "ws://127.0.0.1:8765/market/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m"),
    ("bybit-spot", ["kline.1.BTCUSDT"], "ws://127.0.0.1:8765/v5/public/spot"),
    ("bybit-linear", ["kline.1.BTCUSDT"], "ws://127.0.0.1:8765/v5/public/linear"),
])
def test_overridden_bases_get_the_exchanges_own_paths(name: str, streams: list[str], ws: str) -> None:
    protocol = get_protocol(name, "ws://127.0.0.1:8765/", "http://127.0.0.1:8765/")
    assert protocol.ws_url(streams) == ws
    assert protocol.rest_base == "http://127.0.0.1:8765"
    request = protocol.klines_request("BTCUSDT", "1m")
    assert (protocol.rest_base + request.path).startswith("http://127.0.0.1:8765/")


@pytest.mark.parametrize("text", ["ETHUSDT", "ethusdt", "ETH/USDT", "eth-usdt", "ETH_USDT"])
def test_plain_symbols_resolve_everywhere(text: str) -> None:
    for name in EXCHANGE_NAMES:
        assert resolve_symbol(name, text) == "ETHUSDT"


def test_ccxt_perpetual_notation_resolves_on_linear_endpoints() -> None:
    assert resolve_symbol("binance-futures", "ETH/USDT:USDT") == "ETHUSDT"
    assert resolve_symbol(get_protocol("bybit-linear"), parse_symbol("ETH/USDT:USDT")) == "ETHUSDT"


@pytest.mark.parametrize("name", ["binance", "binanceus", "bybit-spot"])
def test_ccxt_perpetual_on_a_spot_endpoint_is_refused_with_a_way_out(name: str) -> None:
    with pytest.raises(MarketKindMismatchError) as info:
        resolve_symbol(name, "ETH/USDT:USDT")
    message = str(info.value)
    assert message.startswith("ETH/USDT:USDT is a perpetual (linear) contract")
    assert "--exchange binance-futures or --exchange bybit-linear" in message
    assert "write ETHUSDT for the spot pair" in message
    assert isinstance(info.value, ExchangeError) and isinstance(info.value, ValueError)


def test_unreadable_symbol_is_a_sentence() -> None:
    with pytest.raises(ValueError, match="Cannot read symbol 'ETH USDT'"):
        resolve_symbol("binance", "ETH USDT")


def test_protocol_modules_import_no_textual_httpx_or_pandas() -> None:
    code = (
        "import sys; import cryptoai_tui.exchanges.binance, cryptoai_tui.exchanges.bybit, "
        "cryptoai_tui.exchanges.registry; "
        "print(sorted(m for m in ('textual', 'httpx', 'pandas') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_recorded_fixture_is_exercised_by_a_protocol_test() -> None:
    """A fixture nobody parses is a wire format nobody checks; new fixtures need a test."""
    here = Path(__file__).parent
    sources = "".join((here / name).read_text() for name in (
        "test_exchange_binance.py", "test_exchange_bybit.py", "test_exchange_tickers.py", "test_rest_client.py"))
    fixtures = sorted(p.name for p in (here.parent / "data" / "fixtures").glob("*.json"))
    assert len(fixtures) >= 30
    assert [name for name in fixtures if name not in sources] == []
