"""The figures of a backtest, and writing them out (text, JSON, trades CSV, equity CSV).

Every figure is one function of the run (engine.BacktestRun), defined here and nowhere else;
returns and rates are fractions (0.12 means 12%):

* trades: round trips, the one closed at the end included.
* win_rate: share of trades whose return after fees is above 0 (None without trades).
* total_return: final equity / 1 - 1.
* annualised_return: (1 + total_return) ** (periods a year / candle returns in the span) - 1,
  a year being 365 days (crypto trades every day).
* max_drawdown: the largest fall of the equity from its running peak, as a fraction of
  that peak (0.25: a quarter of the peak was lost).
* sharpe: mean / sample standard deviation of the per-candle equity returns, times the
  square root of the candles in a year (risk-free rate 0); None when the returns do not vary.
* profit_factor: the sum of winning trades' gains / the sum of losing trades' losses, in
  equity units (so compounding counts); None when no trade lost.
* exposure: share of the span's candles that closed with a position open.
* buy_and_hold_return: last close / the span's first close - 1 (no fees), the benchmark
  drawn beside the equity curve.
* first_open_time / last_open_time: open times (ms) of the span's first and last candles.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from cryptoai_tui.backtest.engine import BacktestRun

YEAR_MS = 365 * 86_400_000


@dataclass(frozen=True, slots=True)
class Summary:
    trades: int
    win_rate: float | None
    total_return: float
    annualised_return: float | None
    max_drawdown: float
    sharpe: float | None
    profit_factor: float | None
    exposure: float
    buy_and_hold_return: float
    first_open_time: int
    last_open_time: int
    candles: int

    def as_json(self) -> dict[str, Any]:
        """The summary with non-finite numbers as null (JSON has no infinity)."""
        return {key: _finite(value) for key, value in asdict(self).items()}


def summarise(run: BacktestRun, interval_ms: int) -> Summary:
    """Every figure of `run` (see the module docstring); `interval_ms` annualises."""
    equity = run.equity
    trades = run.trades
    returns = equity[1:] / equity[:-1] - 1.0
    per_year = YEAR_MS / interval_ms
    total = float(equity[-1] - 1.0)
    wins = [t for t in trades if t.return_ > 0.0]
    gains = sum(t.pnl for t in trades if t.pnl > 0.0)
    losses = -sum(t.pnl for t in trades if t.pnl < 0.0)
    return Summary(
        trades=len(trades),
        win_rate=len(wins) / len(trades) if trades else None,
        total_return=total,
        annualised_return=annualised(total, returns.size, per_year),
        max_drawdown=max_drawdown(equity),
        sharpe=sharpe(returns, per_year),
        profit_factor=gains / losses if losses > 0.0 else None,
        exposure=float(np.count_nonzero(run.position)) / run.position.size,
        buy_and_hold_return=float(run.close[-1] / run.close[0] - 1.0),
        first_open_time=int(run.open_time[0]),
        last_open_time=int(run.open_time[-1]),
        candles=int(equity.size),
    )


def annualised(total: float, periods: int, per_year: float) -> float | None:
    if periods <= 0 or total <= -1.0:
        return None if periods <= 0 else -1.0
    return float((1.0 + total) ** (per_year / periods) - 1.0)


def max_drawdown(equity: np.ndarray) -> float:
    peak = np.maximum.accumulate(equity)
    return float(np.max(1.0 - equity / peak))


def sharpe(returns: np.ndarray, per_year: float) -> float | None:
    if returns.size < 2:
        return None
    deviation = float(np.std(returns, ddof=1))
    if not deviation > 0.0:
        return None
    return float(np.mean(returns)) / deviation * math.sqrt(per_year)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.2f}%"


def _utc(ms: int) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms / 1000))


def summary_rows(summary: Summary, *, compact: bool = False) -> list[tuple[str, str]]:
    """(label, value) lines of the summary; `compact` splits the span over two short lines."""
    if compact:
        span = [("from", _utc(summary.first_open_time)), ("to", _utc(summary.last_open_time))]
    else:
        span = [("span", f"{_utc(summary.first_open_time)} .. {_utc(summary.last_open_time)} UTC "
                         f"({summary.candles} candles)")]
    return span + [
        ("trades", str(summary.trades)),
        ("win rate", "n/a" if summary.win_rate is None else f"{summary.win_rate * 100:.1f}%"),
        ("total return", _percent(summary.total_return)),
        ("annualised", _percent(summary.annualised_return)),
        ("max drawdown", f"{summary.max_drawdown * 100:.2f}%"),
        ("sharpe", "n/a" if summary.sharpe is None else f"{summary.sharpe:.2f}"),
        ("profit factor", "n/a" if summary.profit_factor is None else f"{summary.profit_factor:.2f}"),
        ("exposure", f"{summary.exposure * 100:.1f}%"),
        ("buy and hold", _percent(summary.buy_and_hold_return)),
    ]


def summary_text(summary: Summary, title: str = "", *, compact: bool = False) -> str:
    """The summary as a few aligned lines for a terminal."""
    rows = summary_rows(summary, compact=compact)
    width = max(len(label) for label, _ in rows)
    lines = [title] if title else []
    lines += [f"{label.ljust(width)}  {value}" for label, value in rows]
    return "\n".join(lines)


def summary_json(summary: Summary) -> str:
    return json.dumps(summary.as_json(), allow_nan=False)


TRADE_COLUMNS = (
    "side", "entry_open_time", "entry_price", "exit_open_time", "exit_price", "return",
    "open_at_end",
)
EQUITY_COLUMNS = ("open_time", "close", "equity", "buy_and_hold", "position")


def write_trades_csv(path: str | Path | TextIO, run: BacktestRun) -> int:
    """One row per trade (TRADE_COLUMNS); prices with repr so they read back exactly."""
    rows = [
        [t.side, t.entry_time, repr(t.entry_price), t.exit_time, repr(t.exit_price),
         repr(t.return_), "true" if t.open_at_end else "false"]
        for t in run.trades
    ]
    _write(path, TRADE_COLUMNS, rows)
    return len(rows)


def write_equity_csv(path: str | Path | TextIO, run: BacktestRun) -> int:
    """One row per candle of the span: its close, the equity, buy-and-hold (1.0 at the
    span's first close, as the equity) and the position (1 long, -1 short, 0 flat)."""
    hold = run.close / run.close[0]
    rows = [
        [int(t), repr(float(c)), repr(float(e)), repr(float(h)), int(p)]
        for t, c, e, h, p in zip(run.open_time, run.close, run.equity, hold, run.position)
    ]
    _write(path, EQUITY_COLUMNS, rows)
    return len(rows)


def _write(path: str | Path | TextIO, header: tuple[str, ...], rows: list[list[Any]]) -> None:
    if hasattr(path, "write"):
        writer = csv.writer(path)  # type: ignore[arg-type]
        writer.writerow(header)
        writer.writerows(rows)
        return
    with Path(path).open("w", newline="") as handle:  # type: ignore[arg-type]
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
