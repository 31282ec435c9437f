"""The static listing the Lab reads at start-up says what the strategy classes declare.

`strategies.listing` is a copy kept so the catalogue and a remembered choice of bare names
need no numpy or TA-Lib; these tests catch a title, description, group, new strategy or
reordering changed on one side only, and a bare-name reading that differs from the registry's.
"""

from __future__ import annotations

import pytest

from cryptoai_tui.engine import EngineOptions
from cryptoai_tui.engine.strategy_choice import StrategySpec, parse_strategy_choice
from cryptoai_tui.strategies.listing import LISTINGS, StrategyListing, plain_names
from cryptoai_tui.strategies.registry import STRATEGIES, STRATEGY_NAMES, create_strategy, parse_strategy_spec
from cryptoai_tui.tui.catalogue import StrategyInfo, default_catalogue


def test_listing_equals_what_the_classes_declare_in_registry_order() -> None:
    declared = tuple(
        StrategyListing(name=cls.name, title=cls.title, group=cls.group, description=cls.description)
        for cls in (STRATEGIES[name] for name in STRATEGY_NAMES)
    )
    assert LISTINGS == declared


def test_catalogue_lists_the_registry_strategies() -> None:
    expected = tuple(
        StrategyInfo(name=name, title=STRATEGIES[name].title, group=STRATEGIES[name].group,
                     description=STRATEGIES[name].description)
        for name in STRATEGY_NAMES
    )
    assert default_catalogue().strategies == expected


@pytest.mark.parametrize("text", [
    "rsi", "rsi;macd", "RSI, macd", "macd,rsi", "all", "all;rsi", "rsi;all", " bos ;; fvg ,",
    "all,all", "liquidity_sweep,order_block;choch",
])
def test_plain_names_choose_what_the_registry_chooses(text: str) -> None:
    assert plain_names(text) == tuple(strategy.name for strategy in parse_strategy_spec(text))
    assert parse_strategy_choice(text) == tuple(StrategySpec.of(s) for s in parse_strategy_spec(text))


def test_parameters_are_left_to_the_registry() -> None:
    assert plain_names("rsi:period=10;macd") is None
    assert parse_strategy_choice("rsi:period=10;macd") == (StrategySpec("rsi", {"period": 10}), StrategySpec("macd"))


@pytest.mark.parametrize("text", ["", " ; ", "rsi,period=10", "rsi;rsi", "rsx", "rsi;nope"])
def test_mistakes_are_left_to_the_registry_and_its_sentences(text: str) -> None:
    assert plain_names(text) is None
    with pytest.raises(ValueError):
        parse_strategy_spec(text)
    with pytest.raises(ValueError):
        parse_strategy_choice(text)


def test_every_strategy_with_its_defaults_fits_the_live_window() -> None:
    """commands.app._check_fits skips specs without parameters on this ground."""
    window = EngineOptions().window
    for name in STRATEGY_NAMES:
        assert create_strategy(name).lookback <= window, name
