"""`cryptoai-tui` with no command: open the Strategy Lab (or the live screen straight away).

Everything the command line can get wrong is checked here, before the terminal switches
to the app, so a typo is one sentence on stderr with the valid choices instead of a
traceback or a half-drawn screen. A symbol that parses but is not listed is left to the
app, which knows the exchange's list and takes the user to the asset picker.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.strategies.confluence import Mode
from cryptoai_tui.tui.session import AppConfig

if TYPE_CHECKING:
    from cryptoai_tui.config import LastChoices
    from cryptoai_tui.engine.strategy_choice import StrategySpec

DEFAULT_EXCHANGE = "binance"
_REMEMBERED = ("symbol", "interval", "strategies", "mode")

def strategy_specs(text: str) -> tuple[StrategySpec, ...]:
    """`--strategies` as one typed spec per strategy (`rsi` with period=10, `macd`), in the
    order given, which is what travels to the engine.

    Parsed by the registry, so an unknown name or parameter fails here with its sentence;
    only parameters that differ from the defaults are kept.
    """
    from cryptoai_tui.engine.strategy_choice import parse_strategy_choice

    return parse_strategy_choice(text)


def config_from_args(args: argparse.Namespace) -> AppConfig:
    """An AppConfig from parsed arguments; UserFacingError for anything unusable."""
    from cryptoai_tui.exchanges.redact import mask_secrets
    from cryptoai_tui.exchanges.registry import resolve_symbol
    from cryptoai_tui.market.interval import Interval, InvalidIntervalError
    from cryptoai_tui.wiring import describe_protocol, market_kind_of, normalise_exchange

    exchange: str = normalise_exchange(args.exchange or DEFAULT_EXCHANGE)
    try:
        protocol = describe_protocol(exchange, args.ws_url, args.rest_url,
                                     market_kind=market_kind_of(args.symbol))
    except ValueError as error:
        raise UserFacingError(mask_secrets(str(error))) from None
    symbol: str | None = None
    if args.symbol:
        try:
            symbol = resolve_symbol(protocol, args.symbol)
        except ValueError as error:  # includes MarketKindMismatchError, which has its sentence
            raise UserFacingError(str(error)) from None
    interval: str | None = None
    if args.interval:
        valid = tuple(protocol.intervals)
        try:
            interval = Interval.parse(args.interval).name
        except InvalidIntervalError:
            interval = None
        if interval not in valid:
            raise UserFacingError(
                f"{args.interval!r} is not a timeframe {protocol.display_name} offers. "
                f"Valid timeframes: {', '.join(valid)}."
            )
    strategies: tuple[StrategySpec, ...] = ()
    if args.strategies:
        try:
            strategies = strategy_specs(args.strategies)
            _check_fits(strategies)
        except ValueError as error:
            raise UserFacingError(str(error)) from None
    mode = _mode(args.mode, len(strategies)) if args.mode else None
    return AppConfig(
        exchange=exchange,
        symbol=symbol,
        interval=interval,
        strategies=strategies,
        mode=mode,
        ws_url=args.ws_url,
        rest_url=args.rest_url,
    )


def _check_fits(specs: tuple[StrategySpec, ...]) -> None:
    """Refuse, before the terminal switches, a parameter that can never warm up in the live
    screen's window (the sentence names the largest value that fits).

    Specs without parameters are the defaults, which always fit (test_strategy_listing
    checks it), so a remembered choice of plain names does not import the strategy classes
    (numpy, TA-Lib) before the first frame."""
    if not any(spec.params for spec in specs):
        return
    from cryptoai_tui.engine import EngineOptions
    from cryptoai_tui.strategies.registry import check_fits

    check_fits([spec.create() for spec in specs], EngineOptions().window)


def _mode(text: str, strategies: int) -> Mode:
    """all/any/majority in any case, or a count K ("at least K of N"), checked against the
    strategies given (0: none given yet, the Lab checks once they are chosen)."""
    from cryptoai_tui.strategies.confluence import parse_mode
    from cryptoai_tui.strategies.signal import ConfluenceRule

    try:
        mode = parse_mode(text)
        if strategies:
            ConfluenceRule.of(mode).check(strategies)
    except ValueError as error:
        raise UserFacingError(str(error)) from None
    return mode


def config_with_remembered(args: argparse.Namespace, last: LastChoices) -> AppConfig:
    """The options given, with what they leave out taken from the last session.

    A given option always wins and its mistakes are said (UserFacingError); a remembered
    value that no longer works (a timeframe the exchange dropped, a renamed strategy) is
    skipped, never an error. The symbol and timeframe are remembered for their exchange
    only. Remembered choices fill the Lab; only options given on the command line open the
    live screen straight away.
    """
    from cryptoai_tui.exchanges.registry import EXCHANGE_NAMES
    from cryptoai_tui.wiring import SIM

    given = argparse.Namespace(**vars(args))
    if given.exchange is None:
        known = last.exchange in EXCHANGE_NAMES or last.exchange == SIM
        given.exchange = last.exchange if known else DEFAULT_EXCHANGE
    flags = config_from_args(given)  # the user's own mistakes are said, not skipped
    if flags.open_live:
        return flags
    merged = given
    for name in _REMEMBERED:
        value = getattr(last, name)
        if getattr(given, name) or value is None:
            continue
        if name in ("symbol", "interval") and last.exchange != flags.exchange:
            continue
        candidate = argparse.Namespace(**{**vars(merged), name: value})
        try:
            config_from_args(candidate)
        except UserFacingError:
            continue
        merged = candidate
    return replace(config_from_args(merged), start_live=False)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from cryptoai_tui.commands.journal import session_journal_path
    from cryptoai_tui.commands.running import simulator_settings
    from cryptoai_tui.config import Settings, config_path
    from cryptoai_tui.tui.app import make_app

    settings = Settings.open(config_path())
    config = config_with_remembered(args, settings.last)
    args.exchange = config.exchange  # the remembered exchange counts as chosen for --seed/--sim-speed
    simulator = simulator_settings(args)
    seed = simulator.effective_seed if simulator is not None else None
    app = make_app(replace(config, simulator=simulator), settings=settings,
                   journal_path=session_journal_path(args), config_path=config_path(None))
    app.run()  # SIGTERM exits it like q, with status 143 (tui/app.py)
    if seed is not None:  # the terminal is back: say how to see this market again
        print(f"cryptoai-tui: the simulated exchange ran with seed {seed}; --seed {seed} shows this "
              "market again.", file=sys.stderr)
    return app.return_code or 0
