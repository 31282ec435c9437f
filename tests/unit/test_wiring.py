"""wiring.py: the one place that knows "sim", names endpoints honestly and checks URLs."""

from __future__ import annotations

import pytest

from cryptoai_tui import wiring
from cryptoai_tui.exchanges.registry import get_protocol
from cryptoai_tui.market.symbol import MarketKind
from cryptoai_tui.wiring import (
    EndpointError,
    SimulatorSettings,
    check_endpoint_urls,
    demo_sim_config,
    describe_protocol,
    display_title,
    exchange_display_name,
    market_kind_of,
    protocol_name,
)


def test_sim_picks_the_spot_or_usdm_protocol_from_the_symbol() -> None:
    assert market_kind_of("ETH/USDT:USDT") is MarketKind.LINEAR
    assert market_kind_of(["BTCUSDT", "eth/usdt"]) is MarketKind.SPOT
    assert market_kind_of(["BTCUSDT", "SOL/USDT:USDT"]) is MarketKind.LINEAR
    assert protocol_name("sim", MarketKind.SPOT) == "binance"
    assert protocol_name("SIM", MarketKind.LINEAR) == "binance-futures"
    assert protocol_name("Bybit-Linear") == "bybit-linear"
    assert describe_protocol("sim", market_kind=MarketKind.LINEAR).market_kind is MarketKind.LINEAR


def test_the_registry_knows_only_real_exchanges() -> None:
    with pytest.raises(ValueError, match="Unknown exchange 'sim'"):
        get_protocol("sim")
    assert "sim" in wiring.EXCHANGE_CHOICES


def test_url_overrides_name_the_endpoint_never_the_plain_exchange() -> None:
    assert exchange_display_name("binance") == "Binance"
    assert exchange_display_name("sim") == "the simulated exchange"
    named = exchange_display_name("binance", "ws://127.0.0.1:8765", "http://127.0.0.1:8765")
    assert named == "Binance protocol · 127.0.0.1:8765"
    assert exchange_display_name("bybit-linear", None, "http://10.0.0.2:9000/") == "Bybit linear protocol · 10.0.0.2:9000"
    assert exchange_display_name("binance", "ws://a:1", "http://b:2") == "Binance protocol · a:1 · b:2"
    assert display_title("sim", "Simulated exchange", "ws://[::1]:8765") == "Simulated exchange · [::1]:8765"
    assert display_title("binance", "Binance") == "Binance"
    assert describe_protocol("binance", "ws://127.0.0.1:9", None).display_name == "Binance protocol · 127.0.0.1:9"


def test_a_password_in_a_url_never_reaches_the_endpoint_name() -> None:
    named = exchange_display_name("binance", "wss://user:hunter2@proxy.example:443", None)
    assert named == "Binance protocol · proxy.example:443"
    with pytest.raises(EndpointError) as info:
        check_endpoint_urls("http://user:hunter2@proxy.example", None)
    assert "hunter2" not in str(info.value) and "user:***@proxy.example" in str(info.value)


@pytest.mark.parametrize("ws,rest,fragment", [
    ("notaurl", None, "--ws-url 'notaurl' must start with ws:// or wss://"),
    ("http://127.0.0.1:8765", None, "--ws-url 'http://127.0.0.1:8765' must start with ws:// or wss://"),
    (None, "ws://127.0.0.1:8765", "--rest-url 'ws://127.0.0.1:8765' must start with http:// or https://"),
    ("ws://", None, "--ws-url 'ws://' names no host"),
    ("ws://host:port", None, "--ws-url 'ws://host:port' is not a URL"),
    ("  ", None, "--ws-url is empty"),
])
def test_urls_that_can_never_connect_are_refused_with_a_sentence(ws: str | None, rest: str | None,
                                                                 fragment: str) -> None:
    with pytest.raises(EndpointError) as info:
        check_endpoint_urls(ws, rest)
    assert fragment in str(info.value) and str(info.value).endswith(".")


def test_good_urls_pass_and_python_callers_get_python_names() -> None:
    check_endpoint_urls("wss://stream.binance.com:9443", "https://api.binance.com")
    check_endpoint_urls("WS://127.0.0.1:8765/", "HTTP://127.0.0.1:8765")
    with pytest.raises(EndpointError, match="^ws_url 'x' must start"):
        check_endpoint_urls("x", None, ws_name="ws_url")


def test_the_simulator_seed_is_fresh_per_run_unless_given() -> None:
    assert demo_sim_config().seed == 7 and demo_sim_config().speed == wiring.DEMO_SIM_SPEED
    given = SimulatorSettings.fresh(12, 1.0)
    assert (given.sim_config().seed, given.sim_config().speed, given.effective_seed) == (12, 1.0, 12)
    seeds = {SimulatorSettings.fresh().effective_seed for _ in range(5)}
    assert len(seeds) > 1, "a fresh seed each run"
    assert SimulatorSettings.fresh().speed == wiring.DEMO_SIM_SPEED
    # a value handed down, not state: the demo simulator is untouched by any run's settings
    assert (demo_sim_config().seed, demo_sim_config().speed) == (7, wiring.DEMO_SIM_SPEED)
    assert not any(not callable(v) and isinstance(v, (int, float)) and name.startswith("_sim")
                   for name, v in vars(wiring).items())


async def test_open_protocol_starts_the_simulator_the_settings_describe() -> None:
    """Two runs with the same seed see the same market, another seed another one: the
    settings reach the simulator through the call, with nothing set beforehand."""
    from cryptoai_tui.exchanges.rest import RestClient
    from cryptoai_tui.market import Interval

    async def closes(settings: SimulatorSettings) -> dict[int, float]:
        async with wiring.open_protocol("sim", simulator=settings) as protocol:
            async with RestClient(protocol) as client:
                candles = await client.get_klines("BTCUSDT", Interval.parse("1m"), limit=5)
        return {candle.open_time: candle.close for candle in candles[:-1]}  # the last is forming

    a = await closes(SimulatorSettings(seed=5, speed=1.0))
    b = await closes(SimulatorSettings(seed=5, speed=1.0))
    c = await closes(SimulatorSettings(seed=6, speed=1.0))
    shared = sorted(a.keys() & b.keys() & c.keys())
    assert len(shared) >= 3, (a, b, c)  # a minute may turn between the runs, not two
    assert [a[t] for t in shared] == [b[t] for t in shared]
    assert [a[t] for t in shared] != [c[t] for t in shared]


