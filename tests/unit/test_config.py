from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cryptoai_tui.alerts.rules import AlertRule, Frequency, parse_condition
from cryptoai_tui.config import ConfigError, LastChoices, UserConfig, load_config, save_config


def _rules() -> tuple[AlertRule, ...]:
    return (
        AlertRule("a1", "BTCUSDT", parse_condition("price crosses above 120000"),
                  notify=("tgram://123456:SECRET/42",), frequency=Frequency.ONCE, cooldown_s=900,
                  rearm=0.002, expires_at=1_800_000_000_000),
        AlertRule("a2", "ETHUSDT", parse_condition("rsi < 25"), interval="1h"),
        AlertRule("a3", "ETHUSDT", parse_condition("move -2% in 5 candles")),
        AlertRule("a4", "SOLUSDT", parse_condition("signal any mode majority"), in_app=False),
        AlertRule("a5", "SOLUSDT", parse_condition("trigger macd SELL")),
    )


def test_the_config_round_trips_and_is_readable_only_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "config.toml"
    config = UserConfig(alerts=_rules(), favourites=("BTCUSDT", "ETHUSDT"),
                        last=LastChoices(exchange="sim", symbol="ETHUSDT", interval="5m", mode="majority"),
                        theme="textual-light")
    save_config(path, config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config(path) == config
    assert "SECRET" in path.read_text()  # stored only here, in the 0600 file


def test_an_absent_config_is_empty_and_a_broken_one_is_refused_with_a_sentence(tmp_path: Path) -> None:
    assert load_config(tmp_path / "none.toml") == UserConfig()
    bad = tmp_path / "bad.toml"
    bad.write_text("alerts = [ {")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    bad.write_text('[[alerts]]\nid = "a1"\nsymbol = "BTCUSDT"\nwhen = "price near 5"\n')
    with pytest.raises(ConfigError, match="bad entry.*price near 5"):
        load_config(bad)


def test_alert_ids_are_added_and_removed_by_name() -> None:
    config = UserConfig(alerts=_rules()[:2])
    assert config.next_alert_id() == "a3"
    assert [r.id for r in config.without_alert("a1").alerts] == ["a2"]
    with pytest.raises(ConfigError, match="no alert 'zz'; the alerts are: a1, a2"):
        config.without_alert("zz")
