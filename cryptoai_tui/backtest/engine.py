"""The trade model: confirmed confluence verdicts in, trades and an equity curve out.

The model (stated in `backtest --help` and the README, and nowhere else decided):

* A confirmed BUY at candle t's close opens a long at candle t+1's open; a confirmed SELL
  closes it at t+1's open. With `side="long-short"` a SELL also opens a short there (and a
  BUY closes the short and opens a long). A verdict that would not change the position
  (BUY while long, SELL while flat in long-only) does nothing.
* One position at a time, using the whole equity, so returns compound. Buying happens at
  the price times (1 + slippage), selling at the price times (1 - slippage).
* A fee of `fee_bps` is charged on each side's traded value: a long entered with equity E
  at price P holds E·(1-f)/P units (the fee taken from what was bought) and leaving sells
  them for units·P'·(1-f); a short sells E/P units, paying f·E, and buys them back at P',
  paying f·units·P'. So a long's return is (1-f)²·P'/P - 1, a short's 1 - f - (1+f)·P'/P.
* A position still open after the last candle is closed at the last close (slippage and
  fee as any exit) and marked `open_at_end`.
* The equity curve is the equity at each candle's close from the first candle every
  strategy is warm (equity 1.0) to the last: a position is marked at the close (no exit
  fee until it is really closed), cash is cash.

Signals before the span starts (some strategies still warming up) are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Side = Literal["long", "long-short"]
SIDES: tuple[str, ...] = ("long", "long-short")


@dataclass(frozen=True, slots=True)
class TradeModel:
    """What a backtest trades and what it pays. Fees and slippage in basis points per side."""

    side: Side = "long"
    fee_bps: float = 10.0
    slippage_bps: float = 0.0

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"Unknown side {self.side!r}: use long or long-short.")
        if not 0.0 <= self.fee_bps < 10_000.0:
            raise ValueError(f"--fee-bps must be between 0 and 10000, got {self.fee_bps:g}.")
        if not 0.0 <= self.slippage_bps < 10_000.0:
            raise ValueError(f"--slippage-bps must be between 0 and 10000, got {self.slippage_bps:g}.")

    @property
    def fee(self) -> float:
        return self.fee_bps / 10_000.0

    @property
    def slippage(self) -> float:
        return self.slippage_bps / 10_000.0


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip. Times are candle open times (ms); prices include slippage."""

    side: Literal["long", "short"]
    entry_index: int
    entry_time: int
    entry_price: float
    exit_index: int
    exit_time: int
    exit_price: float
    return_: float  # after fees, as a fraction of the equity put in
    equity_before: float
    open_at_end: bool = False

    @property
    def pnl(self) -> float:
        """The trade's gain in equity units (equity starts at 1.0)."""
        return self.equity_before * self.return_


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """The span, its trades and equity curve (numpy arrays over the span's candles)."""

    open_time: np.ndarray
    close: np.ndarray
    equity: np.ndarray
    position: np.ndarray  # int8 at each close: 1 long, -1 short, 0 flat
    trades: tuple[Trade, ...]
    start: int  # index of the span's first candle in the history


def trade_return(side: str, entry: float, exit_: float, fee: float) -> float:
    """A round trip's return after both fees (see the module docstring)."""
    ratio = exit_ / entry
    if side == "long":
        return (1.0 - fee) * (1.0 - fee) * ratio - 1.0
    return 1.0 - fee - (1.0 + fee) * ratio


def simulate(
    open_time: np.ndarray,
    open_: np.ndarray,
    close: np.ndarray,
    action: np.ndarray,
    start: int,
    model: TradeModel = TradeModel(),
) -> BacktestRun:
    """Trades and equity over candles `start`.. of a history whose confluence verdicts are
    `action` (1 BUY, -1 SELL, 0 HOLD per candle, as `HistoryEvaluation.action`)."""
    n = int(close.shape[0])
    if not 0 <= start < n:
        raise ValueError(f"The span starts at candle {start} of {n}: nothing to trade.")
    fee, slip = model.fee, model.slippage
    long_short = model.side == "long-short"
    m = n - start
    equity = np.empty(m)
    position = np.zeros(m, dtype=np.int8)
    trades: list[Trade] = []
    cash = 1.0
    side = 0  # current position
    entry_price = 0.0
    entry_index = 0
    units = 0.0
    marked_to = start  # equity filled up to (not including) this index

    def fill_until(stop: int) -> None:
        """Equity and position for candles [marked_to, stop) under the current position."""
        nonlocal marked_to
        if stop <= marked_to:
            return
        sl = slice(marked_to - start, stop - start)
        if side == 0:
            equity[sl] = cash
        elif side == 1:
            equity[sl] = units * close[marked_to:stop]
        else:
            equity[sl] = cash * (1.0 - fee) + units * (entry_price - close[marked_to:stop])
        position[sl] = side
        marked_to = stop

    def close_position(at: int, price: float, *, at_end: bool = False) -> None:
        nonlocal cash, side
        fill_price = price * (1.0 - slip) if side == 1 else price * (1.0 + slip)
        if side == 1:
            after = units * fill_price * (1.0 - fee)
        else:
            after = cash * (1.0 - fee) + units * (entry_price - fill_price) - fee * units * fill_price
        trades.append(Trade(
            "long" if side == 1 else "short", entry_index, int(open_time[entry_index]), entry_price,
            at, int(open_time[at]), fill_price, after / cash - 1.0, cash, at_end,
        ))
        cash = after
        side = 0

    def open_position(at: int, direction: int) -> None:
        nonlocal side, units, entry_price, entry_index
        side = direction
        entry_index = at
        if direction == 1:
            entry_price = float(open_[at]) * (1.0 + slip)
            units = cash * (1.0 - fee) / entry_price
        else:
            entry_price = float(open_[at]) * (1.0 - slip)
            units = cash / entry_price

    signals = np.flatnonzero(action[start : n - 1] != 0) + start  # the last close has no next open
    for t in signals.tolist():
        verdict = int(action[t])
        at = t + 1
        wants = verdict if long_short else (1 if verdict == 1 else 0)
        if wants == side:
            continue
        fill_until(at)
        if side != 0:
            close_position(at, float(open_[at]))
        if wants != 0:
            open_position(at, wants)
        # Candle `at` closes under the new position (its open was the trade).
    fill_until(n)
    if side != 0:
        close_position(n - 1, float(close[n - 1]), at_end=True)
        equity[-1] = cash
    return BacktestRun(open_time[start:], close[start:], equity, position, tuple(trades), start)
