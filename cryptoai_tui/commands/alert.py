"""`cryptoai-tui alert add|list|remove|test|preview`: manage the alert rules in the config file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from cryptoai_tui.alerts.book import Alert, AlertBook, PriceTick
from cryptoai_tui.alerts.dispatcher import Delivery, Dispatcher
from cryptoai_tui.alerts.notifiers import mask_target, parse_target
from cryptoai_tui.alerts.rules import (
    GRAMMAR,
    AlertRule,
    Frequency,
    MoveCondition,
    PriceCondition,
    RuleError,
    parse_condition,
    parse_duration,
    parse_frequency,
    parse_percent,
    APP_CHANNELS,
    parse_app_notify,
)
from cryptoai_tui.config import ConfigError, config_path, load_config, save_config
from cryptoai_tui.errors import UserFacingError

if TYPE_CHECKING:
    from cryptoai_tui.market.candle import Candle
    from cryptoai_tui.market.interval import Interval


def run(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    try:
        if args.alert_action == "add":
            return _add(path, args)
        if args.alert_action == "list":
            return _list(path)
        if args.alert_action == "remove":
            config = load_config(path).without_alert(args.id)
            save_config(path, config)
            print(f"Removed alert {args.id}.")
            return 0
        if args.alert_action == "test":
            return _test(path, args.id)
        return _preview(args)
    except (RuleError, ConfigError) as error:
        raise UserFacingError(str(error)) from None


def _rule_from(args: argparse.Namespace, rule_id: str) -> AlertRule:
    for url in getattr(args, "notify", []):
        parse_target(url)  # refuse a bad URL now, not when the alert fires
    expires = None
    if getattr(args, "expires", None):
        try:
            moment = datetime.fromisoformat(args.expires)
        except ValueError:
            raise RuleError(f"--expires {args.expires!r} is not a date: write it like 2027-01-31.") from None
        expires = int((moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp() * 1000)
    return AlertRule(
        id=rule_id, symbol=args.symbol.strip().upper().replace("/", "").replace("-", ""),
        condition=parse_condition(args.when if hasattr(args, "when") else args.rule),
        notify=tuple(getattr(args, "notify", ())), interval=args.interval,
        frequency=parse_frequency(args.frequency), cooldown_s=parse_duration(args.cooldown),
        rearm=parse_percent(args.rearm), expires_at=expires, in_app=not getattr(args, "no_in_app", False),
        app_notify=parse_app_notify(getattr(args, "app_notify", None) or ",".join(APP_CHANNELS)),
    )


def _add(path: Path, args: argparse.Namespace) -> int:
    if not args.symbol.strip():
        raise RuleError("--symbol needs a symbol, e.g. BTCUSDT.")
    config = load_config(path)
    rule = _rule_from(args, config.next_alert_id())
    save_config(path, config.with_alert(rule))
    targets = ", ".join(mask_target(u) for u in rule.notify) or "in the app only"
    print(f"Armed alert {rule.id}: {rule.describe()} ({rule.frequency.value}) -> {targets}.")
    return 0


def _list(path: Path) -> int:
    config = load_config(path)
    if not config.alerts:
        print(f"No alerts are armed (config: {path}).")
        return 0
    for rule in config.alerts:
        extras = [rule.frequency.value]
        if rule.cooldown_s:
            extras.append(f"cooldown {rule.cooldown_s:g} s")
        if rule.expires_at:
            extras.append("expires " + datetime.fromtimestamp(rule.expires_at / 1000, tz=timezone.utc).date().isoformat())
        targets = ", ".join(mask_target(u) for u in rule.notify) or "in the app only"
        print(f"{rule.id:<4} {rule.describe():<48} {'; '.join(extras):<28} -> {targets}")
    return 0


def _test(path: Path, rule_id: str) -> int:
    config = load_config(path)
    rule = next((r for r in config.alerts if r.id == rule_id), None)
    if rule is None:
        config.without_alert(rule_id)  # raises the sentence naming the known ids
        return 2
    if not rule.notify:
        print(f"Alert {rule_id} has no --notify target; it shows in the app only.")
        return 0
    ledger: list[Delivery] = []

    async def send() -> None:
        dispatcher = Dispatcher(ledger=ledger.append)
        alert = Alert(rule.id, rule.symbol, rule.interval or "", f"Test of alert {rule.id}: {rule.describe()}",
                      0, 0, 0.0)
        dispatcher.submit(alert, [parse_target(u) for u in rule.notify])
        await dispatcher.close(timeout_s=60.0)

    from cryptoai_tui.commands.running import run_to_result

    run_to_result(send())
    failed = False
    for delivery in ledger:
        if delivery.state != "retried":
            print(f"{delivery.target}: {delivery.state}" + (f" ({delivery.error})" if delivery.error else ""))
            failed = failed or delivery.state == "dropped"
    return 1 if failed else 0


def _preview(args: argparse.Namespace) -> int:
    from cryptoai_tui.market.interval import Interval

    rule = _rule_from(args, "preview")
    if not isinstance(rule.condition, (PriceCondition, MoveCondition)):
        raise RuleError("alert preview replays prices: it previews price and move rules.")
    interval = Interval.parse(args.interval)
    if args.replay:
        from cryptoai_tui.replay import read_candles_csv

        candles = read_candles_csv(args.replay, interval)
        where = args.replay
    else:
        if rule.symbol == "REPLAY":
            raise RuleError("alert preview on the exchange's history needs --symbol, e.g. --symbol BTCUSDT.")
        from cryptoai_tui.commands.running import run_to_result

        candles = run_to_result(_rest_history(args, rule.symbol, interval))
        where = f"{rule.symbol} {interval.name} on {args.exchange}"
    counts = preview_counts(rule, candles, interval.name)
    span = f"{len(candles)} candles ({where})"
    if rule.cooldown_s:
        print(f"{rule.condition.describe()} would have fired {counts[0]} times over {span} "
              f"({counts[1]} without the {rule.cooldown_s:g} s cooldown).")
    else:
        print(f"{rule.condition.describe()} would have fired {counts[0]} times over {span}.")
    if rule.frequency is Frequency.ONCE and counts[1]:
        print("With --frequency once it fires only the first time.", file=sys.stderr)
    return 0


def preview_counts(rule: AlertRule, candles: Sequence[Candle], interval: str) -> tuple[int, int]:
    """How often `rule` fires over the closes of `candles`: (with its cooldown, without)."""
    counts = []
    for use_cooldown in (True, False):
        book = AlertBook([rule], use_cooldown=use_cooldown)
        for candle in candles:
            book.on_price(PriceTick(rule.symbol, interval, candle.close, candle.open_time,
                                    candle.close_time, closed=True))
        counts.append(book.fired(rule.id))
    return counts[0], counts[1]


async def _rest_history(args: argparse.Namespace, symbol: str, interval: Interval) -> list[Candle]:
    """The newest `--candles` closed candles from the exchange's REST API (HistoryClient:
    Retry-After and backoff built in), given up on after `REST_PREVIEW_TIMEOUT_S`."""
    import httpx

    from cryptoai_tui.exchanges.errors import ExchangeError
    from cryptoai_tui.exchanges.redact import mask_secrets
    from cryptoai_tui.feed.history import HistoryClient
    from cryptoai_tui.wiring import market_kind_of, open_protocol

    try:
        async with open_protocol(args.exchange, args.ws_url, args.rest_url,
                                 market_kind=market_kind_of(symbol)) as protocol:
            async with httpx.AsyncClient() as http:
                client = HistoryClient(protocol, http)
                return await asyncio.wait_for(
                    client.last_closed(symbol, interval, args.candles, malformed_tries=3),
                    REST_PREVIEW_TIMEOUT_S,
                )
    except TimeoutError:
        raise UserFacingError(
            f"The exchange did not send {symbol} {interval.name} history within "
            f"{REST_PREVIEW_TIMEOUT_S:g} s; check the connection or preview a CSV with --replay."
        ) from None
    except (ExchangeError, ValueError) as error:
        raise UserFacingError(mask_secrets(str(error))) from None


#: how long `alert preview` waits for the exchange's history before it gives up
REST_PREVIEW_TIMEOUT_S = 60.0
