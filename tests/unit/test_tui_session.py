"""Lab choices: what is missing, what a complete choice becomes, what the CLI config implies."""

from __future__ import annotations

import pytest

from cryptoai_tui.strategies.signal import ConfluenceMode, ConfluenceRule
from cryptoai_tui.engine.strategy_choice import StrategySpec
from cryptoai_tui.tui.session import AppConfig, LabChoices, LabStep, LiveSession


def test_empty_choice_names_every_missing_step_in_menu_order() -> None:
    choices = LabChoices()
    assert choices.missing() == (LabStep.ASSET, LabStep.STRATEGIES, LabStep.TIMEFRAME)
    assert choices.missing_sentence() == (
        "Choose an asset, at least one strategy and a timeframe before starting."
    )
    assert choices.next_step() is LabStep.ASSET


def test_one_missing_step_is_named_alone() -> None:
    choices = LabChoices(symbol="BTCUSDT", strategies=("rsi",))
    assert choices.missing() == (LabStep.TIMEFRAME,)
    assert choices.missing_sentence() == "Choose a timeframe before starting."
    assert choices.next_step() is LabStep.TIMEFRAME


def test_incomplete_choice_refuses_to_become_a_session() -> None:
    with pytest.raises(ValueError, match="Choose an asset"):
        LabChoices(interval="1m", strategies=("rsi",)).session()


RSI_TUNED = StrategySpec("rsi", {"period": 10, "lower": 25.0})


def test_complete_choice_becomes_a_session_carrying_typed_strategy_specs() -> None:
    choices = LabChoices(
        exchange="sim", symbol="ETHUSDT", interval="1m",
        strategies=(RSI_TUNED, StrategySpec("macd")), mode=ConfluenceMode.ANY,
    )
    assert choices.next_step() is LabStep.START
    session = choices.session()
    assert session.strategies == (RSI_TUNED, StrategySpec("macd"))
    assert session.strategy_names == ("rsi", "macd")
    assert session.endpoint.exchange == "sim"
    rsi, macd = (spec.create() for spec in session.strategies)  # what the engine builds
    assert (rsi.name, rsi.params["period"], rsi.params["lower"]) == ("rsi", 10, 25.0)
    assert macd.params == macd.defaults


def test_rechoosing_strategies_keeps_parameters_of_those_that_stay() -> None:
    choices = LabChoices(strategies=(RSI_TUNED, StrategySpec("macd")))
    assert choices.with_strategy_names(("rsi", "bos")).strategies == (RSI_TUNED, StrategySpec("bos"))


def test_plain_names_stand_for_default_specs_and_joined_text_is_refused() -> None:
    assert AppConfig(strategies=("rsi", "macd")).strategies == (StrategySpec("rsi"), StrategySpec("macd"))
    with pytest.raises(TypeError, match="StrategySpec"):
        LiveSession("binance", "BTCUSDT", "1m", ("rsi:period=10;macd",), ConfluenceMode.ANY)


def test_specs_are_values_equal_by_content_and_spelled_as_on_the_command_line() -> None:
    assert StrategySpec("rsi", {"period": 10}) == StrategySpec("rsi", {"period": 10})
    assert hash(StrategySpec("rsi", {"period": 10})) == hash(StrategySpec("rsi", {"period": 10}))
    assert StrategySpec("rsi", {"period": 10}) != StrategySpec("rsi")
    assert str(StrategySpec("rsi", {"period": 10})) == "rsi:period=10"
    assert str(StrategySpec("macd")) == "macd"


def test_config_opens_live_only_with_asset_timeframe_strategies_and_mode() -> None:
    full = AppConfig(symbol="BTCUSDT", interval="1m", strategies=("rsi",), mode=ConfluenceMode.ALL)
    assert full.open_live
    assert not AppConfig(symbol="BTCUSDT", interval="1m", strategies=("rsi",)).open_live
    assert not AppConfig(symbol="BTCUSDT").open_live
    assert AppConfig().initial_choices().mode is ConfluenceMode.MAJORITY
    assert full.initial_choices().mode is ConfluenceMode.ALL


def test_summary_says_what_start_will_do_in_the_chosen_mode() -> None:
    choices = LabChoices(symbol="ETHUSDT", interval="1m", strategies=("rsi", "macd", "bos"))
    assert choices.summary("Binance") == (
        "Start runs 3 strategies on every 1m ETHUSDT update from Binance; "
        "the verdict is BUY or SELL when one triggers and at least 2 of 3 lean its way."
    )
    assert "when one triggers and none leans against it" in LabChoices(
        symbol="X", interval="1m", strategies=("a", "b", "c"), mode=ConfluenceMode.ALL).summary("Bybit")
    assert "when one triggers and at least 3 of 4 lean its way" in LabChoices(
        symbol="X", interval="1m", strategies=("a", "b", "c", "d"), mode=ConfluenceRule.at_least(3)).summary("Bybit")
    assert "Choose the missing steps" in LabChoices().summary("Binance")
