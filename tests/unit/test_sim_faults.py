"""Fault knobs: what `--fault` accepts, what it refuses, and that the dice are repeatable."""

from __future__ import annotations

import pytest

from cryptoai_tui.sim.faults import (
    DEFAULT_PERIOD_S,
    DEFAULT_RATE,
    FaultConfig,
    FaultConfigError,
    FaultDice,
    FaultKind,
    parse_faults,
    valid_fault_names,
)


def test_no_faults_is_a_well_behaved_exchange() -> None:
    assert parse_faults([]) == FaultConfig()
    assert FaultConfig().active == () and FaultConfig().describe() == "none"


def test_fault_names_take_rates_periods_and_defaults() -> None:
    config = parse_faults(["duplicate", "drop=0.5", "rest-429=0.25,retry-after=0.05", "restart", "stall=2",
                           "stall-for=0.3"])
    assert config.duplicate_rate == DEFAULT_RATE
    assert config.drop_every_s == 0.5
    assert config.rest_429_rate == 0.25 and config.retry_after_s == 0.05
    assert config.restart_every_s == DEFAULT_PERIOD_S
    assert config.stall_every_s == 2 and config.stall_s == 0.3
    assert config.active == (FaultKind.DROP, FaultKind.STALL, FaultKind.DUPLICATE, FaultKind.REST_429,
                             FaultKind.RESTART)
    assert "drop (every 0.5 s)" in config.describe() and "rest-429 (p=0.25)" in config.describe()


def test_every_cli_fault_name_is_understood() -> None:
    from cryptoai_tui.cli import FAULTS

    for name in FAULTS:
        assert parse_faults([name]).active, name
    assert set(FAULTS) <= set(valid_fault_names())


def test_an_unknown_fault_lists_the_valid_ones() -> None:
    with pytest.raises(FaultConfigError) as caught:
        parse_faults(["dorp"])
    message = str(caught.value)
    assert "Unknown fault 'dorp'" in message
    for kind in FaultKind:
        assert kind.value in message


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("duplicate=lots", "needs a number"), ("duplicate=1.5", "between 0 and 1"),
     ("drop=0", "above 0"), ("retry-after", "needs a value"), ("ban-for=-1", "cannot be negative")],
)
def test_bad_fault_values_are_explained(text: str, phrase: str) -> None:
    with pytest.raises(FaultConfigError, match=phrase):
        parse_faults([text])


def test_fault_dice_repeat_with_the_seed_and_kinds_do_not_disturb_each_other() -> None:
    def rolls(dice: FaultDice, kind: FaultKind) -> list[bool]:
        return [dice.roll(kind, 0.3) for _ in range(50)]

    first = rolls(FaultDice(7, "ws/1"), FaultKind.DUPLICATE)
    assert first == rolls(FaultDice(7, "ws/1"), FaultKind.DUPLICATE)
    assert first != rolls(FaultDice(8, "ws/1"), FaultKind.DUPLICATE)
    assert first != rolls(FaultDice(7, "ws/2"), FaultKind.DUPLICATE)
    mixed = FaultDice(7, "ws/1")
    interleaved = []
    for _ in range(50):
        mixed.roll(FaultKind.REORDER, 0.5)
        interleaved.append(mixed.roll(FaultKind.DUPLICATE, 0.3))
    assert interleaved == first
    assert not FaultDice(7, "x").roll(FaultKind.DROP, 0.0)
