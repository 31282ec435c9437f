"""Parameter checks the pivot-based SMC strategies share."""

from __future__ import annotations

from typing import Any, Mapping

BREAK_ON = ("close", "wick")


def check_pivot_params(name: str, params: Mapping[str, Any]) -> None:
    if params["left"] < 1 or params["right"] < 1:
        raise ValueError(
            f"{name} pivots need left >= 1 and right >= 1 bars, got left={params['left']}, "
            f"right={params['right']}."
        )
    check_atr_period(name, params)


def check_atr_period(name: str, params: Mapping[str, Any]) -> None:
    if params["atr_period"] < 1:
        raise ValueError(f"{name} atr_period must be at least 1, got {params['atr_period']}.")


def check_break_on(name: str, params: Mapping[str, Any]) -> None:
    if params["break_on"] not in BREAK_ON:
        raise ValueError(
            f"{name} break_on must be one of {', '.join(BREAK_ON)}, got {params['break_on']!r}."
        )


def check_positive(name: str, params: Mapping[str, Any], key: str) -> None:
    if params[key] < 1:
        raise ValueError(f"{name} {key} must be at least 1 bar, got {params[key]}.")


def pivot_lookback(params: Mapping[str, Any]) -> int:
    """Bars before a structure pattern can say anything: two opposite pivots and an ATR.

    strategies.md §3.5 f: about 2·(L+R) in practice, and not less than 50.
    """
    return max(50, 2 * (params["left"] + params["right"]) + 1, params["atr_period"] + 1)
