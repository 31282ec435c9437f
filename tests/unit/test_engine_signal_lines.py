"""The JSON line `signals` prints for a confirmed signal."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest

from cryptoai_tui.commands.signals import (
    LineContext,
    SignalPrinter,
    confirmed_signal_json,
    confirmed_signal_line,
    csv_symbol,
    is_warmed_up,
    line_encoder,
)
from cryptoai_tui.snapshot import ConfirmedSignal, StrategyRow
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceResult, Signal, Stance

CONTEXT = LineContext("binance", "BTCUSDT", "1h")


def confirmed(rsi_value: float, macd_action: Action = Action.BUY, verdict_action: Action = Action.BUY) -> ConfirmedSignal:
    rows = (
        StrategyRow("rsi", Signal(Action.HOLD, 0.0, "between", MappingProxyType({"rsi": rsi_value}), Stance.BEARISH)),
        StrategyRow("macd", Signal(macd_action, 0.75, "crossed", MappingProxyType({"hist": 1.5, "signal": -2.0}),
                                   Stance.BULLISH)),
    )
    verdict = ConfluenceResult(
        ConfluenceMode.ANY, verdict_action, 0.75, ("macd",), 2, "macd BUY, no opposite trigger",
        triggered_by=("macd",), opposed_by=("rsi",), needed=1,
    )
    return ConfirmedSignal(1_606_780_800_000, 19565.47, verdict, rows, history=True)


@pytest.mark.parametrize("prefer_orjson", [True, False])
def test_line_has_the_documented_shape(prefer_orjson: bool) -> None:
    line = json.loads(confirmed_signal_line(confirmed(48.5), CONTEXT, line_encoder(prefer_orjson)))
    assert line == {
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "interval": "1h",
        "open_time": 1_606_780_800_000,
        "time": "2020-12-01T00:00:00Z",
        "close": 19565.47,
        "history": True,
        "confluence": {
            "mode": "any", "action": "BUY", "confidence": 0.75, "triggered_by": ["macd"], "confirmed_by": [],
            "opposed_by": ["rsi"], "reason": "macd BUY, no opposite trigger",
        },
        "strategies": {
            "rsi": {"action": "HOLD", "stance": "bearish", "confidence": 0.0, "values": {"rsi": 48.5}},
            "macd": {"action": "BUY", "stance": "bullish", "confidence": 0.75, "values": {"hist": 1.5, "signal": -2.0}},
        },
    }
    assert line == confirmed_signal_json(confirmed(48.5), CONTEXT)


@pytest.mark.parametrize("prefer_orjson", [True, False])
def test_non_finite_values_become_null_so_every_line_is_strict_json(prefer_orjson: bool) -> None:
    for bad in (float("nan"), float("inf"), float("-inf")):
        text = confirmed_signal_line(confirmed(bad), CONTEXT, line_encoder(prefer_orjson))
        line = json.loads(text, parse_constant=lambda token: (_ for _ in ()).throw(ValueError(token)))
        assert line["strategies"]["rsi"]["values"] == {"rsi": None}


def test_warm_up_means_no_strategy_is_still_warming_up() -> None:
    assert is_warmed_up(confirmed(50.0))
    assert not is_warmed_up(confirmed(50.0, macd_action=Action.WARMUP))


def test_the_printer_skips_holds_unless_asked_for_every_candle() -> None:
    import io

    from dataclasses import replace

    hour = 3_600_000
    signals = [replace(signal, open_time=signal.open_time + i * hour) for i, signal in enumerate(
        [confirmed(50.0), confirmed(50.0, verdict_action=Action.HOLD), confirmed(50.0, Action.WARMUP)])]
    for all_candles, expected in ((False, 1), (True, 2)):
        out = io.StringIO()
        printer = SignalPrinter(out, flush_each=False, context=CONTEXT, all_candles=all_candles)
        for signal in signals:
            printer(signal)
        assert printer.lines == expected == len(out.getvalue().splitlines())


@pytest.mark.parametrize("name, symbol", [
    ("BTCUSDT-1h.csv", "BTCUSDT"), ("ethbtc_1m.csv", "ETHBTC"), ("seen.csv", None), ("candles-1h.csv", None),
])
def test_only_a_file_named_after_a_pair_names_a_symbol(name: str, symbol: str | None) -> None:
    assert csv_symbol(name) == symbol


@pytest.mark.parametrize("prefer_orjson", [True, False])
def test_numpy_numbers_in_values_are_written_as_plain_numbers(prefer_orjson: bool) -> None:
    import numpy as np

    signal = confirmed(50.0)
    rows = (signal.rows[0], StrategyRow("macd", Signal(Action.BUY, 0.75, "x", MappingProxyType(
        {"count": np.int64(3), "level": np.float32(1.5)}))))
    text = confirmed_signal_line(ConfirmedSignal(signal.open_time, signal.close, signal.confluence, rows),
                                 CONTEXT, line_encoder(prefer_orjson))
    assert json.loads(text)["strategies"]["macd"]["values"] == {"count": 3, "level": 1.5}


def test_a_stream_evaluated_again_from_its_start_prints_no_candle_twice() -> None:
    """A stream whose history arrived late is evaluated again from the history's start: the
    candles already printed live come by once more (as history) and must not be printed again."""
    import io
    from dataclasses import replace

    hour = 3_600_000
    at = [replace(confirmed(50.0), open_time=1_606_780_800_000 + i * hour) for i in range(5)]
    out = io.StringIO()
    printer = SignalPrinter(out, flush_each=False, context=CONTEXT, all_candles=True)
    for signal in (at[2], at[3], at[0], at[1], at[2], at[3], at[4]):  # live, then the replay, then live
        printer(signal)
    opens = [json.loads(line)["open_time"] for line in out.getvalue().splitlines()]
    assert opens == [at[2].open_time, at[3].open_time, at[4].open_time]


def test_watch_prints_no_candle_of_a_symbol_twice_and_keeps_symbols_apart() -> None:
    from dataclasses import replace

    from cryptoai_tui.commands.watch import LineOut, WatchPrinter

    class Lines:
        def __init__(self) -> None:
            self.written: list[tuple[str, str]] = []

        def write(self, line: str, key: str) -> None:
            self.written.append((key, line))

    hour = 3_600_000
    at = [replace(confirmed(50.0), open_time=1_606_780_800_000 + i * hour) for i in range(3)]
    sink = Lines()
    printer = WatchPrinter("sim", "1h", LineOut(sink), all_candles=True)  # type: ignore[arg-type]
    for symbol, signal in (("BTCUSDT", at[1]), ("ETHUSDT", at[0]), ("BTCUSDT", at[0]), ("BTCUSDT", at[1]),
                           ("ETHUSDT", at[1]), ("BTCUSDT", at[2])):
        printer(symbol, signal)
    keys = [(key, json.loads(line)["open_time"]) for key, line in sink.written]
    assert keys == [("sim:BTCUSDT:1h", at[1].open_time), ("sim:ETHUSDT:1h", at[0].open_time),
                    ("sim:ETHUSDT:1h", at[1].open_time), ("sim:BTCUSDT:1h", at[2].open_time)]
