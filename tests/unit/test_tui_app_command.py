"""`cryptoai-tui` options become an AppConfig, or one sentence naming the mistake."""

from __future__ import annotations

import argparse

import pytest

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.commands.app import config_from_args, strategy_specs
from cryptoai_tui.engine.strategy_choice import StrategySpec
from cryptoai_tui.strategies.signal import ConfluenceMode


def args(**given: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "exchange": "binance", "symbol": None, "interval": None, "strategies": None, "mode": None,
        "ws_url": None, "rest_url": None,
    }
    values.update(given)
    return argparse.Namespace(**values)


def test_no_options_opens_an_empty_lab_on_binance() -> None:
    config = config_from_args(args())
    assert config.exchange == "binance" and config.symbol is None and not config.open_live


def test_symbol_is_normalised_to_the_exchange_spelling() -> None:
    assert config_from_args(args(symbol="eth/usdt")).symbol == "ETHUSDT"


def test_all_four_choices_open_the_live_screen() -> None:
    config = config_from_args(args(symbol="BTCUSDT", interval="1m", strategies="rsi,macd", mode="any"))
    assert config.open_live
    assert config.strategies == (StrategySpec("rsi"), StrategySpec("macd"))
    assert config.mode is ConfluenceMode.ANY


def test_strategy_parameters_survive_and_all_expands() -> None:
    assert strategy_specs("rsi:period=10;macd") == (StrategySpec("rsi", {"period": 10}), StrategySpec("macd"))
    assert len(strategy_specs("all")) == 11
    assert all(not spec.params for spec in strategy_specs("all"))  # only changed parameters travel


def test_unknown_interval_is_refused_with_the_valid_list() -> None:
    with pytest.raises(UserFacingError, match=r"'2m' is not a timeframe Binance offers\. Valid timeframes: 1s, 1m"):
        config_from_args(args(interval="2m"))
    with pytest.raises(UserFacingError, match="Bybit"):
        config_from_args(args(exchange="bybit-spot", interval="8h"))


def test_unknown_strategy_is_refused_with_the_registry_sentence() -> None:
    with pytest.raises(UserFacingError, match="Unknown strategy 'rsx'"):
        config_from_args(args(strategies="rsx"))


def test_unreadable_symbol_or_perpetual_on_spot_is_refused() -> None:
    with pytest.raises(UserFacingError, match="Cannot read symbol"):
        config_from_args(args(symbol="ETH USDT!"))
    with pytest.raises(UserFacingError, match="perpetual"):
        config_from_args(args(symbol="ETH/USDT:USDT"))


def test_sim_uses_binance_intervals_and_keeps_url_overrides() -> None:
    config = config_from_args(args(exchange="sim", interval="1s", ws_url="ws://127.0.0.1:9"))
    assert config.interval == "1s" and config.ws_url == "ws://127.0.0.1:9"


def test_mode_3_is_at_least_3_of_n_and_a_count_above_n_is_refused() -> None:
    from cryptoai_tui.strategies.signal import ConfluenceRule

    config = config_from_args(args(symbol="BTCUSDT", interval="1m", strategies="all", mode="3"))
    assert config.open_live and config.mode == ConfluenceRule.at_least(3)
    with pytest.raises(UserFacingError, match="only 2 are chosen: choose more strategies or a count of at most 2"):
        config_from_args(args(strategies="rsi,macd", mode="3"))


def test_a_parameter_that_can_never_warm_up_is_refused_with_the_largest_that_fits() -> None:
    with pytest.raises(UserFacingError, match=r"window holds 1000: the largest period that fits is 998\.$"):
        config_from_args(args(strategies="rsi:period=100000"))


def test_the_simulator_settings_travel_from_the_options_to_the_app_and_its_services() -> None:
    """`--seed`/`--sim-speed` are a value on the AppConfig, bound into the services'
    default engine and symbol loaders, not state left in a module for the next run."""
    from functools import partial

    from cryptoai_tui.commands.running import simulator_settings
    from cryptoai_tui.tui.app import make_app
    from cryptoai_tui.tui.session import AppConfig
    from cryptoai_tui.wiring import DEMO_SIM_SPEED, SimulatorSettings

    settings = simulator_settings(argparse.Namespace(exchange="SIM", seed=5, sim_speed=2.0))
    assert settings == SimulatorSettings(seed=5, speed=2.0)
    assert simulator_settings(argparse.Namespace(exchange="binance", seed=None, sim_speed=None)) is None
    with pytest.raises(UserFacingError, match="--seed only applies to the built-in simulator"):
        simulator_settings(argparse.Namespace(exchange="binance", seed=5, sim_speed=None))

    app = make_app(AppConfig(exchange="sim", simulator=settings))
    assert app.sim_speed == 2.0
    factory = app.services.engine_factory
    assert isinstance(factory, partial) and factory.keywords == {"simulator": settings}
    assert make_app(AppConfig(exchange="sim")).sim_speed == DEMO_SIM_SPEED
