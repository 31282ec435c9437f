"""The config file remembers the last session, favourites and theme: what is saved, what a
corrupt file does (defaults and one sentence, the file untouched), and that options given
on the command line win over remembered ones."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cryptoai_tui.alerts.rules import AlertRule, parse_condition
from cryptoai_tui.commands.app import config_with_remembered
from cryptoai_tui.config import LastChoices, Settings, UserConfig, load_config, save_config
from cryptoai_tui.engine.strategy_choice import StrategySpec
from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.strategies.signal import ConfluenceMode


def args(**given: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "exchange": None, "symbol": None, "interval": None, "strategies": None, "mode": None,
        "ws_url": None, "rest_url": None,
    }
    values.update(given)
    return argparse.Namespace(**values)


LAST = LastChoices(exchange="bybit-spot", symbol="ETHUSDT", interval="15m", strategies="rsi:period=10;macd",
                   mode="all")


def test_changes_are_saved_and_alerts_added_meanwhile_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    settings = Settings.open(path)
    assert settings.warning is None and settings.favourites == ()
    settings.remember(LAST)
    # another process (`cryptoai-tui alert add`) writes an alert while the app runs
    rule = AlertRule("a1", "BTCUSDT", parse_condition("price crosses above 120000"))
    save_config(path, load_config(path).with_alert(rule))
    assert settings.toggle_favourite("SOLUSDT") is True
    assert settings.toggle_favourite("BTCUSDT") is True
    assert settings.toggle_favourite("SOLUSDT") is False
    settings.set_theme("nord")
    saved = load_config(path)
    assert saved.last == LAST and saved.favourites == ("BTCUSDT",) and saved.theme == "nord"
    assert saved.alerts == (rule,)
    again = Settings.open(path)
    assert (again.last, again.favourites, again.theme) == (LAST, ("BTCUSDT",), "nord")


@pytest.mark.parametrize("text", ["favourites = [", "[last]\nbogus = 1\n[[alerts]]\nid = 3\n", "theme = 'x'\n[[alerts]]\nid='a'\n"])
def test_a_corrupt_file_gives_defaults_one_sentence_and_is_left_untouched(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    settings = Settings.open(path)
    assert settings.config == UserConfig()
    assert settings.warning is not None
    assert str(path) in settings.warning and settings.warning.endswith("leaves the file untouched.")
    assert settings.warning.count(". ") == 0  # one sentence
    settings.toggle_favourite("BTCUSDT")
    settings.remember(LAST)
    assert settings.favourites == ("BTCUSDT",)  # kept for this run ...
    assert path.read_text() == text  # ... but the user's file is not overwritten


def test_remembered_choices_fill_the_lab_but_do_not_open_the_live_screen() -> None:
    config = config_with_remembered(args(), LAST)
    assert (config.exchange, config.symbol, config.interval) == ("bybit-spot", "ETHUSDT", "15m")
    assert config.strategies == (StrategySpec("rsi", {"period": 10}), StrategySpec("macd"))
    assert config.mode is ConfluenceMode.ALL
    assert not config.open_live  # complete, but the Lab shows it first


def test_options_given_win_and_their_mistakes_are_said() -> None:
    config = config_with_remembered(args(symbol="sol/usdt", mode="any"), LAST)
    assert (config.symbol, config.mode, config.interval) == ("SOLUSDT", ConfluenceMode.ANY, "15m")
    full = config_with_remembered(args(symbol="BTCUSDT", interval="1m", strategies="rsi", mode="any"), LAST)
    assert full.open_live and full.exchange == "bybit-spot" and full.strategies == (StrategySpec("rsi"),)
    with pytest.raises(UserFacingError, match="timeframe"):
        config_with_remembered(args(interval="7m"), LAST)


def test_another_exchange_drops_the_remembered_symbol_and_timeframe() -> None:
    config = config_with_remembered(args(exchange="binance"), LAST)
    assert (config.exchange, config.symbol, config.interval) == ("binance", None, None)
    assert config.mode is ConfluenceMode.ALL and len(config.strategies) == 2


def test_a_remembered_value_that_no_longer_works_is_skipped() -> None:
    stale = LastChoices(exchange="binance", symbol="BTCUSDT", interval="7m", strategies="nosuch", mode="sometimes")
    config = config_with_remembered(args(), stale)
    assert (config.exchange, config.symbol, config.interval, config.strategies) == ("binance", "BTCUSDT", None, ())
    assert config.mode is None
    nothing = config_with_remembered(args(), LastChoices(exchange="nowhere"))
    assert nothing.exchange == "binance" and nothing.symbol is None
