"""Choosing and tuning strategies by name: the Python API and the command-line syntax, and
the sentences a user sees when they get it wrong."""

from __future__ import annotations

import pytest

from cryptoai_tui.strategies import (
    STRATEGIES,
    STRATEGY_NAMES,
    Strategy,
    create_strategy,
    parse_strategy_spec,
)
from cryptoai_tui.cli import STRATEGY_NAMES as CLI_NAMES


def test_eleven_strategies_classic_first() -> None:
    assert STRATEGY_NAMES == (
        "rsi", "ema_cross", "bollinger", "macd", "stochastic", "adx",
        "bos", "choch", "order_block", "fvg", "liquidity_sweep",
    )
    assert tuple(CLI_NAMES) == STRATEGY_NAMES
    groups = [STRATEGIES[name].group for name in STRATEGY_NAMES]
    assert groups == ["Classic"] * 6 + ["Smart Money"] * 5


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_every_strategy_describes_itself_for_the_picker(name: str) -> None:
    cls = STRATEGIES[name]
    assert cls.name == name
    assert cls.title and cls.description and "\n" not in cls.description
    strategy = create_strategy(name)
    assert isinstance(strategy, Strategy)
    assert dict(strategy.params) == dict(cls.defaults)
    assert strategy.lookback >= 2


def test_create_strategy_overrides_defaults_and_converts_text() -> None:
    rsi = create_strategy("rsi", period=10, lower="25")
    assert rsi.params["period"] == 10 and rsi.params["lower"] == 25.0
    assert rsi.lookback == 12
    assert create_strategy("liquidity_sweep", confirm_bar="yes").params["confirm_bar"] is True


def test_spec_with_parameters_and_semicolons() -> None:
    rsi, macd = parse_strategy_spec("rsi:period=10,lower=25;macd")
    assert (rsi.name, rsi.params["period"], rsi.params["lower"]) == ("rsi", 10, 25.0)
    assert (macd.name, dict(macd.params)) == ("macd", dict(STRATEGIES["macd"].defaults))


def test_spec_plain_comma_list_and_mixed_forms() -> None:
    assert [s.name for s in parse_strategy_spec("rsi,macd,bos")] == ["rsi", "macd", "bos"]
    mixed = parse_strategy_spec(" RSI , macd:fast=5,slow=30, bos ")
    assert [s.name for s in mixed] == ["rsi", "macd", "bos"]
    assert (mixed[1].params["fast"], mixed[1].params["slow"]) == (5, 30)


def test_all_means_all_eleven_and_can_be_tuned() -> None:
    assert [s.name for s in parse_strategy_spec("all")] == list(STRATEGY_NAMES)
    tuned = parse_strategy_spec("all;fvg:mode=formation")
    assert [s.name for s in tuned] == list(STRATEGY_NAMES)
    assert tuned[STRATEGY_NAMES.index("fvg")].params["mode"] == "formation"


def test_each_parse_gives_fresh_instances() -> None:
    first, second = parse_strategy_spec("bos"), parse_strategy_spec("bos")
    assert first[0] is not second[0]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("rsx", "Unknown strategy 'rsx'. Did you mean rsi?"),
        ("order-block", "Did you mean order_block?"),
        (
            "rsi:perod=3",
            "rsi has no parameter perod; its parameters are episode, lower, mode, period, upper.",
        ),
        ("rsi:period=abc", "rsi parameter period must be a whole number, got 'abc'"),
        ("rsi:period=2.5", "rsi parameter period must be a whole number, got '2.5'"),
        ("rsi:lower=low", "rsi parameter lower must be a number, got 'low'"),
        ("liquidity_sweep:confirm_bar=maybe", "confirm_bar must be true or false"),
        ("macd:fast=30", "macd fast (30) must be shorter than slow (26)."),
        ("rsi:lower=80", "rsi needs 0 < lower < upper < 100"),
        ("fvg:mode=sometimes", "fvg mode must be one of retest, formation"),
        ("rsi;rsi:period=3", "Strategy 'rsi' is listed twice"),
        ("period=3", "does not follow a strategy"),
        ("rsi:period", "write key=value"),
        ("rsi:period=3,period=4", "Parameter period of rsi is given twice"),
        ("", "No strategy chosen"),
        (" ; , ", "No strategy chosen"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_strategy_spec(spec)
    assert message in str(raised.value)


def test_python_api_refuses_a_fractional_period() -> None:
    with pytest.raises(ValueError, match="period must be a whole number"):
        create_strategy("adx", period=14.5)
    with pytest.raises(ValueError, match="Unknown strategy 'vwap'"):
        create_strategy("vwap")


# --- texts agree with the rules ---------------------------------------------------------

@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_every_number_in_a_picker_description_is_a_default_parameter(name: str) -> None:
    """The picker must not promise a threshold the rule does not use (the ADX text once
    said 25 while its reasons said 20)."""
    import re

    cls = STRATEGIES[name]
    numbers = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", cls.description)}
    defaults = {float(v) for v in cls.defaults.values() if isinstance(v, (int, float))}
    assert numbers <= defaults, (cls.description, sorted(defaults))


# --- a window the parameters must fit in ------------------------------------------------------

def test_a_period_that_can_never_warm_up_is_refused_naming_the_largest_that_fits() -> None:
    from cryptoai_tui.strategies.registry import check_fits

    with pytest.raises(ValueError) as refused:
        check_fits(parse_strategy_spec("macd;rsi:period=100000"), 1000)
    assert str(refused.value) == (
        "rsi period=100000 needs 100002 candles before its first signal, but the window "
        "holds 1000: the largest period that fits is 998."
    )
    check_fits(parse_strategy_spec("rsi:period=998"), 1000)
    check_fits(parse_strategy_spec("all"), 1000)


@pytest.mark.parametrize(
    "spec",
    ["ema_cross:slow=5000", "macd:slow=990,signal=20", "bos:left=600", "stochastic:fastk=2000",
     "adx:period=700", "liquidity_sweep:right=999", "bollinger:period=1000"],
)
def test_the_largest_value_named_fits_and_one_more_does_not(spec: str) -> None:
    import re

    from cryptoai_tui.strategies.registry import check_fits

    strategy = parse_strategy_spec(spec)[0]
    with pytest.raises(ValueError) as refused:
        check_fits([strategy], 1000)
    named = re.findall(r"the largest (\w+) that fits is (\d+)", str(refused.value))
    assert named, str(refused.value)
    for key, value in named:
        params = dict(strategy.params)
        assert type(strategy).lookback_for(**{**params, key: int(value)}) <= 1000
        assert type(strategy).lookback_for(**{**params, key: int(value) + 1}) > 1000


def test_periods_too_long_together_get_a_plain_sentence() -> None:
    from cryptoai_tui.strategies.registry import check_fits

    with pytest.raises(ValueError, match="needs 4001 candles .* holds 1000: choose shorter periods"):
        check_fits(parse_strategy_spec("ema_cross:fast=3000,slow=4000"), 1000)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_the_docs_give_every_parameter_with_its_default(name: str) -> None:
    """docs/strategies.md states each trigger and stance with the parameters that control
    them; its defaults must be the code's."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "strategies.md").read_text()
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in text.splitlines()
        if line.startswith("| `")
    }
    row = rows[name]
    if "| as `bos` |" in row:
        row = rows["bos"]

    def shown(value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    for key, value in STRATEGIES[name].defaults.items():
        assert f"`{key}` [{shown(value)}]" in row, (name, key)
