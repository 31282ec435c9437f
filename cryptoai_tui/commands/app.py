"""`cryptoai-tui` with no command: open the Strategy Lab (or the live screen straight away).

Everything the command line can get wrong is checked here, before the terminal switches
to the app, so a typo is one sentence on stderr with the valid choices instead of a
traceback or a half-drawn screen. A symbol that parses but is not listed is left to the
app, which knows the exchange's list and takes the user to the asset picker.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.session import AppConfig

if TYPE_CHECKING:
    from cryptoai_tui.engine.strategy_choice import StrategySpec

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

    exchange: str = normalise_exchange(args.exchange)
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
        except ValueError as error:
            raise UserFacingError(str(error)) from None
    mode = _mode(args.mode) if args.mode else None
    return AppConfig(
        exchange=exchange,
        symbol=symbol,
        interval=interval,
        strategies=strategies,
        mode=mode,
        ws_url=args.ws_url,
        rest_url=args.rest_url,
    )


def _mode(text: str) -> ConfluenceMode:
    """all/any/majority in any case; anything else (a K-of-N number the app does not offer
    yet) is refused with the engine's sentence."""
    try:
        return ConfluenceMode(text.strip().lower())
    except ValueError:
        from cryptoai_tui.engine import parse_mode

        try:
            return parse_mode(text)
        except ValueError as error:
            raise UserFacingError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from cryptoai_tui.commands.running import simulator_settings
    from cryptoai_tui.tui.app import make_app

    config = config_from_args(args)
    simulator = simulator_settings(args)
    seed = simulator.effective_seed if simulator is not None else None
    app = make_app(replace(config, simulator=simulator))
    app.run()  # SIGTERM exits it like q, with status 143 (tui/app.py)
    if seed is not None:  # the terminal is back: say how to see this market again
        print(f"cryptoai-tui: the simulated exchange ran with seed {seed}; --seed {seed} shows this "
              "market again.", file=sys.stderr)
    return app.return_code or 0
