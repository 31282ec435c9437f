"""`cryptoai-tui backtest`: the live strategies over history, traded by the stated model.

Candles come from `--replay CSV` or from the exchange's REST klines over `--start/--end`
(through the local cache, backtest/candles.py); signals from the vectorised evaluator that
the tests prove equal to the live path; trades and figures from backtest/engine.py and
report.py. With `--sweep` every combination runs as its own plain backtest, on local
processes or on Ray.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cryptoai_tui.errors import UserFacingError

if TYPE_CHECKING:
    from cryptoai_tui.backtest.engine import TradeModel
    from cryptoai_tui.backtest.sweep import Combination
    from cryptoai_tui.market.candle import Candle
    from cryptoai_tui.market.interval import Interval
    from cryptoai_tui.market.series import OHLCV

TRADE_MODEL_HELP = (
    "Trade model: a confirmed BUY opens a long at the next candle's open and a confirmed SELL "
    "closes it at the next candle's open (--side long-short also opens a short on SELL, closed "
    "by the next BUY); one position at a time using the whole equity, so returns compound; "
    "--fee-bps (default 10) is charged on each side's traded value and --slippage-bps (default "
    "0) moves every fill against you; a position still open at the end is closed at the last "
    "close and marked open_at_end. Figures are fractions (0.12 = 12 percent): trades, win_rate, "
    "total_return, annualised_return, max_drawdown, sharpe (per-candle returns annualised for "
    "the interval), profit_factor, exposure, buy_and_hold_return, first_open_time, "
    "last_open_time."
)


def run(args: argparse.Namespace) -> int:
    from cryptoai_tui.backtest.engine import TradeModel
    from cryptoai_tui.market.interval import Interval
    from cryptoai_tui.market.symbol import parse_symbol

    try:
        symbol = parse_symbol(args.symbol).name
        interval = Interval.parse(args.interval)
        model = TradeModel(args.side, args.fee_bps, args.slippage_bps)
        mode = (args.mode or "majority").lower()
    except ValueError as error:
        raise UserFacingError(str(error)) from None
    if args.sweep is None and not args.strategies:
        raise UserFacingError("Choose strategies with --strategies (e.g. 'rsi,macd' or 'all'), or sweep "
                              "their parameters with --sweep.")
    combos = None
    if args.sweep is not None:
        from cryptoai_tui.backtest.sweep import combinations

        try:
            combos = combinations(args.sweep, args.strategies)
        except ValueError as error:
            raise UserFacingError(str(error)) from None
    if args.ray is not None or (combos is not None and args.workers is None and _ray_env()):
        if combos is None:
            raise UserFacingError("--ray runs a sweep on a cluster; add --sweep.")
        try:
            import ray  # noqa: F401
        except ImportError:
            from cryptoai_tui.backtest.sweep import RAY_MISSING

            raise UserFacingError(RAY_MISSING) from None
    candles = load_candles(args, symbol, interval)
    if getattr(args, "journal", None) and combos is None:
        journal_backtest(args, candles, symbol, interval, mode)
    from cryptoai_tui.backtest.vectorised import ohlcv_of

    data = ohlcv_of(candles)
    step = interval.ms if not interval.is_calendar else 30 * 86_400_000
    if combos is not None:
        return _sweep(args, data, combos, mode, model, step)
    return _single(args, data, mode, model, step, symbol, interval)


def journal_backtest(args: argparse.Namespace, candles: list[Candle], symbol: str, interval: Interval,
                     mode: str) -> int:
    """`--journal PATH`: the span's confirmed signals, journaled as `signals --replay` journals
    them (history entries, graded, each candle once however often it is run). The journal
    wants every strategy's values and reasons, which only the live evaluator keeps, so this
    runs the live path over the candles (slower than the vectorised one, and said so); the
    two are proven equal, so the journal holds the signals the figures are made of."""
    from cryptoai_tui.engine import EngineOptions, RealtimeStrategyEngine
    from cryptoai_tui.journal.hooks import HooksPlan, session_hooks
    from cryptoai_tui.journal.store import JournalError
    from cryptoai_tui.replay import ReplaySource
    from cryptoai_tui.strategies.confluence import parse_mode

    exchange = "replay" if args.replay else args.exchange
    try:
        engine = RealtimeStrategyEngine(symbol, interval, args.strategies, parse_mode(mode), exchange,
                                        options=EngineOptions(venue=exchange))
    except (ValueError, KeyError) as error:
        raise UserFacingError(str(error.args[0] if error.args else error)) from None
    path = Path(args.journal).expanduser()
    print(f"cryptoai-tui: journaling the confirmed signals of {len(candles):,} candles in {path} "
          "(through the live evaluator; this takes longer than the backtest itself).",
          file=sys.stderr, flush=True)
    confirmed = 0

    def count(signal: object) -> None:
        nonlocal confirmed
        confirmed += 1

    engine.add_listener(on_confirmed=count)
    plan = HooksPlan(journal_path=path, all_history=True,
                     warn=lambda text: print(f"cryptoai-tui: {text}", file=sys.stderr, flush=True))

    async def run() -> None:
        async with session_hooks(engine, plan):
            await engine.run(ReplaySource(candles, symbol, interval, exchange))

    from cryptoai_tui.commands.running import run_to_result

    try:
        run_to_result(run())
    except JournalError as error:
        raise UserFacingError(str(error)) from None
    return confirmed


def _ray_env() -> bool:
    import os

    return bool(os.environ.get("RAY_ADDRESS"))


def load_candles(args: argparse.Namespace, symbol: str, interval: Interval) -> list[Candle]:
    """`--replay CSV` (checked for order and gaps) or `--start/--end` through the cache."""
    from cryptoai_tui.backtest import candles as source
    from cryptoai_tui.market.candle_csv import CandleFileError

    if args.replay:
        if args.start or args.end:
            raise UserFacingError("Give either --replay CSV or --start/--end, not both.")
        try:
            return source.read_replay(args.replay, interval, allow_gaps=args.allow_gaps)
        except CandleFileError as error:
            raise UserFacingError(str(error)) from None
    if not args.start:
        raise UserFacingError("Say which candles to test: --replay CSV, or --start 2024-01-01 [--end ...].")
    try:
        start = source.parse_date(args.start, "--start")
        end = source.parse_date(args.end, "--end") if args.end else int(time.time() * 1000)
    except ValueError as error:
        raise UserFacingError(str(error)) from None
    if end <= start:
        raise UserFacingError(f"--end must be after --start; got {args.start} .. {args.end}.")
    from cryptoai_tui.commands.running import simulator_settings
    from cryptoai_tui.exchanges.errors import ExchangeError
    from cryptoai_tui.exchanges.redact import mask_secrets

    simulator = simulator_settings(args)
    seed = simulator.effective_seed if simulator is not None else None
    bar = source.ProgressBar(f"downloading {symbol} {interval.name} from {args.exchange}")
    cache = Path(args.cache_dir).expanduser() if args.cache_dir else None
    try:
        from cryptoai_tui.commands.running import run_to_result

        candles = run_to_result(source.download(
            args.exchange, symbol, interval, start, end, ws_url=args.ws_url, rest_url=args.rest_url,
            simulator=simulator, progress=bar, cache=cache, cache_key=_cache_key(args.exchange, seed, args.rest_url), notice=lambda text: print(f"\ncryptoai-tui: {text}", file=sys.stderr),
        ))
    except ExchangeError as error:
        raise UserFacingError(mask_secrets(str(error))) from None
    finally:
        bar.done()
    if not candles:
        raise UserFacingError(
            f"{args.exchange} has no closed {symbol} {interval.name} candles between {args.start} and "
            f"{args.end or 'now'}."
        )
    return candles


def _cache_key(exchange: str, seed: int | None, rest_url: str | None) -> str:
    """What names the cache file besides symbol and interval: a simulated market differs by
    seed, and a --rest-url (a testnet, a proxy) is a different source from the exchange."""
    import re
    from urllib.parse import urlsplit

    key = exchange if seed is None else f"{exchange}-seed{seed}"
    if rest_url:
        key += "-" + re.sub(r"[^A-Za-z0-9.]+", "_", urlsplit(rest_url).netloc or rest_url)
    return key


def _single(args: argparse.Namespace, data: OHLCV, mode: str, model: TradeModel, step: int,
            symbol: str, interval: Interval) -> int:
    from cryptoai_tui.backtest.report import summary_json, summary_text, write_equity_csv, write_trades_csv
    from cryptoai_tui.backtest.runner import run_backtest

    try:
        result = run_backtest(data, args.strategies, mode, model, step, window=args.window)
    except ValueError as error:
        raise UserFacingError(str(error)) from None
    if args.trades:
        write_trades_csv(args.trades, result.run)
    if args.equity:
        write_equity_csv(args.equity, result.run)
    if args.format == "json":
        print(summary_json(result.summary))
    else:
        title = f"{symbol} {interval.name}  {args.strategies}  mode {mode}  side {args.side}"
        print(summary_text(result.summary, title))
    return 0


def _sweep(args: argparse.Namespace, data: OHLCV, combos: list[Combination], mode: str, model: TradeModel,
           step: int) -> int:
    from cryptoai_tui.backtest import sweep
    from cryptoai_tui.backtest.candles import ProgressBar
    from cryptoai_tui.backtest.runner import TooFewCandles, candles_needed

    need = max(candles_needed(combo.strategies) for combo in combos)
    if len(data) < need:
        raise UserFacingError(str(TooFewCandles(
            f"The span has {len(data)} candles but the slowest combination needs at least {need} "
            f"({need - 1} to warm up and one to trade on); start earlier or sweep shorter periods."
        )))
    if args.workers is not None and args.workers < 1:
        raise UserFacingError(f"--workers must be at least 1, got {args.workers}.")
    settings = (mode, model, step, args.window)
    bar = ProgressBar(f"sweeping {len(combos)} combinations")
    try:
        if args.ray is not None or (args.workers is None and _ray_env()):
            rows = sweep.run_ray(data, combos, settings, address=args.ray or None, progress=bar)
        else:
            rows = sweep.run_local(data, combos, settings, workers=args.workers, progress=bar)
    except (ValueError, RuntimeError) as error:
        raise UserFacingError(str(error)) from None
    finally:
        bar.done()
    try:
        ordered = sweep.ranked(rows, args.rank_by)
    except ValueError as error:
        raise UserFacingError(str(error)) from None
    if args.results:
        with open(args.results, "w", newline="") as handle:
            csv.writer(handle).writerows(sweep.iter_csv_rows(ordered))
    if args.format == "json":
        print(json.dumps([
            {"rank": rank, "strategies": row.combination.strategies, "params": dict(row.combination.params),
             **row.summary}
            for rank, row in enumerate(ordered, 1)
        ]))
    else:
        print(sweep.table_text(ordered, args.rank_by))
    return 0
