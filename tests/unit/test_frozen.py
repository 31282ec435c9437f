"""keyword_constructor builds exactly what the class builds, and stands aside when it cannot."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from cryptoai_tui.frozen import keyword_constructor
from cryptoai_tui.snapshot import Metrics, StrategyRow
from cryptoai_tui.strategies.signal import Action, Signal


def test_a_fast_row_equals_the_class_built_one_and_stays_frozen() -> None:
    make = keyword_constructor(StrategyRow)
    assert make is not StrategyRow  # the shortcut is taken for the rows built every tick
    fields = dict(name="rsi", signal=Signal(Action.BUY, 0.5, "crossed"), changed_at=7, error=None, elapsed_us=3.5)
    fast, slow = make(**fields), StrategyRow(**fields)
    assert type(fast) is StrategyRow and fast == slow and hash(fast) == hash(slow)
    assert all(getattr(fast, f.name) is getattr(slow, f.name) for f in dataclasses.fields(StrategyRow))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.name = "macd"  # type: ignore[misc]


def test_every_field_is_required_and_unknown_ones_are_refused() -> None:
    make = keyword_constructor(Metrics)
    values = {field.name: 1 for field in dataclasses.fields(Metrics)}
    assert make(**values) == Metrics(**values)
    with pytest.raises(TypeError):
        make(**{**values, "unknown": 1})
    values.pop("reconnects")
    with pytest.raises(TypeError):
        make(**values)


@dataclass(frozen=True, slots=True)
class Checked:
    size: int

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError("negative")


@dataclass(frozen=True)
class Unslotted:
    size: int


@dataclass(frozen=True, slots=True)
class HandWritten:
    size: int

    def __init__(self, size: int) -> None:
        object.__setattr__(self, "size", abs(size))


@dataclass(slots=True)
class Mutable:
    size: int


@pytest.mark.parametrize("cls", [Checked, Unslotted, HandWritten, Mutable, Signal])
def test_a_class_whose_init_does_more_than_assign_gets_itself_back(cls: type) -> None:
    assert keyword_constructor(cls) is cls
