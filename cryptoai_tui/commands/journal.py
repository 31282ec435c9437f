"""`cryptoai-tui journal list|export|stats`: read the signal journal from the command line."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterable

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.journal.entry import GRADE_HORIZONS, StoredEntry
from cryptoai_tui.journal.store import JournalError, JournalFilter, JournalStore

if TYPE_CHECKING:
    from cryptoai_tui.alerts.rules import AlertRule
    from cryptoai_tui.journal.hooks import HooksPlan

EXPORT_FIELDS = (
    "id", "time", "exchange", "symbol", "interval", "open_time", "close", "mode", "action",
    "confidence", "reason", "triggered_by", "confirmed_by", "opposed_by", "history", "session_id",
    "app_version", "return_1", "return_5", "return_20", "strategies",
)


def default_journal_path() -> Path:
    from cryptoai_tui.config import data_dir

    return data_dir() / "journal.sqlite"


def session_journal_path(args: argparse.Namespace) -> Path | None:
    """The journal a session writes: `--journal PATH`, none with `--no-journal`, else the default."""
    given = getattr(args, "journal", None)
    if getattr(args, "no_journal", False):
        if given:
            raise UserFacingError(f"--journal {given} and --no-journal contradict each other: give one of them.")
        return None
    return Path(given).expanduser() if given else default_journal_path()


def hooks_plan(args: argparse.Namespace, *, replay: bool) -> HooksPlan:
    """What `signals` adds to its engine: the journal, and the armed rules when live or, on a
    replay, only with `--alerts` (replaying history never notifies anyone by surprise)."""
    from cryptoai_tui.journal.hooks import HooksPlan

    rules: tuple[AlertRule, ...] = ()
    if not replay or getattr(args, "alerts", False):
        from cryptoai_tui.config import ConfigError, config_path, load_config

        try:
            rules = load_config(config_path(getattr(args, "config", None))).alerts
        except ConfigError as error:
            raise UserFacingError(str(error)) from None
    path = session_journal_path(args)
    if path is not None:
        try:
            JournalStore(path).close()  # a file that cannot be used is said now, before the run
        except JournalError as error:
            raise UserFacingError(str(error)) from None
    return HooksPlan(journal_path=path, rules=rules, all_history=replay,
                     warn=lambda text: print(f"cryptoai-tui: {text}", file=sys.stderr, flush=True))


def run(args: argparse.Namespace) -> int:
    path = Path(args.journal).expanduser() if args.journal else default_journal_path()
    if not path.exists():
        raise UserFacingError(f"There is no journal at {path} yet: it is created by the first session "
                              "that confirms a signal (the app, signals or backtest --journal).")
    where = JournalFilter(
        symbol=args.symbol.upper().replace("/", "") if args.symbol else None,
        interval=args.interval, mode=args.mode.lower() if args.mode else None,
        action=args.action, since=parse_since(args.since) if args.since else None,
    )
    try:
        with JournalStore(path) as store:
            if args.journal_action == "list":
                print_list(store.page(where, limit=max(1, args.limit)), sys.stdout)
            elif args.journal_action == "export":
                if args.csv == "-":
                    export_csv(store.iter_all(where), sys.stdout)
                else:
                    with open(args.csv, "w", newline="", encoding="utf-8") as handle:
                        count = export_csv(store.iter_all(where), handle)
                    print(f"Wrote {count} signals to {args.csv}.", file=sys.stderr)
            else:
                print_stats(store, where, args.horizon, sys.stdout)
    except JournalError as error:
        raise UserFacingError(str(error)) from None
    except BrokenPipeError:  # `journal list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def parse_since(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserFacingError(f"--since {text!r} is not a date: write it like 2026-11-01 or 2026-11-01T12:00.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:+.2f}%"


def print_list(rows: list[StoredEntry], out: IO[str]) -> None:
    if not rows:
        print("No signals match.", file=out)
        return
    header = f"{'time (UTC)':<16}  {'symbol':<10} {'tf':<4} {'mode':<9} {'action':<6} {'conf':>5}  " \
             f"{'close':>12}  {'+1':>7} {'+5':>7} {'+20':>7}  triggered by"
    print(header, file=out)
    for row in reversed(rows):  # oldest of the page first, so the newest is nearest the prompt
        e = row.entry
        print(
            f"{_time(e.open_time):<16}  {e.symbol:<10} {e.interval:<4} {e.mode:<9} {e.action:<6} "
            f"{e.confidence * 100:>4.0f}%  {e.close:>12,.2f}  {_percent(row.returns[1]):>7} "
            f"{_percent(row.returns[5]):>7} {_percent(row.returns[20]):>7}  {', '.join(e.triggered_by)}"
            + ("  (history)" if e.history else ""),
            file=out,
        )


def export_csv(rows: Iterable[StoredEntry], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    count = 0
    for row in rows:
        e = row.entry
        writer.writerow([
            row.id, datetime.fromtimestamp(e.open_time / 1000, tz=timezone.utc).isoformat(), e.exchange,
            e.symbol, e.interval, e.open_time, repr(e.close), e.mode, e.action, e.confidence, e.reason,
            " ".join(e.triggered_by), " ".join(e.confirmed_by), " ".join(e.opposed_by), int(e.history),
            e.session_id, e.app_version, *(row.returns[h] if row.returns[h] is not None else "" for h in GRADE_HORIZONS),
            json.dumps({name: v.to_json() for name, v in e.strategies.items()}, sort_keys=True),
        ])
        count += 1
    return count


def print_stats(store: JournalStore, where: JournalFilter, horizon: int, out: IO[str]) -> None:
    rows = store.stats(where, horizon=horizon)
    if not rows:
        print("No signals match.", file=out)
        return
    print(f"Graded {horizon} candles after each signal; a SELL counts a fall as a hit.", file=out)
    print(f"{'strategy / mode':<22} {'symbol':<10} {'tf':<4} {'signals':>7} {'graded':>6} {'hit rate':>8} "
          f"{'mean return':>11}", file=out)
    for r in rows:
        hit = "" if r.hit_rate is None else f"{r.hit_rate * 100:.0f}%"
        print(f"{r.group:<22} {r.symbol:<10} {r.interval:<4} {r.signals:>7} {r.graded:>6} {hit:>8} "
              f"{_percent(r.mean_return):>11}", file=out)
