"""The static listing the Lab reads at start-up says what the strategy classes declare.

`strategies.listing` is a copy kept so the catalogue needs no numpy or TA-Lib; these tests
catch a title, description, group, new strategy or reordering changed on one side only.
"""

from __future__ import annotations

from cryptoai_tui.strategies.listing import LISTINGS, StrategyListing
from cryptoai_tui.strategies.registry import STRATEGIES, STRATEGY_NAMES
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
