"""Exchange names as the command line spells them, mapped to protocol objects.

"sim" is not an exchange here: `cryptoai_tui.wiring` starts the simulator and points the
Binance protocol of the symbol's market kind at it.
"""

from __future__ import annotations

from cryptoai_tui.exchanges.base import ExchangeProtocol
from cryptoai_tui.exchanges.binance import BinanceSpot, BinanceUS, BinanceUsdm
from cryptoai_tui.exchanges.bybit import BybitLinear, BybitSpot
from cryptoai_tui.exchanges.errors import MarketKindMismatchError
from cryptoai_tui.market import MarketKind, SymbolRef, parse_symbol

_PROTOCOLS: dict[str, type[ExchangeProtocol]] = {
    cls.name: cls for cls in (BinanceSpot, BinanceUS, BinanceUsdm, BybitSpot, BybitLinear)
}

EXCHANGE_NAMES: tuple[str, ...] = tuple(_PROTOCOLS)

#: how a front end spells "choose exchange X": `--exchange {}` on the command line,
#: `exchange="{}"` in Python; the sentence names what the user would type
CLI_EXCHANGE_OPTION = "--exchange {}"
PYTHON_EXCHANGE_OPTION = 'exchange="{}"'
#: the exchanges to suggest for a symbol that names a perpetual
_LINEAR_EXCHANGES = ("binance-futures", "bybit-linear")


def get_protocol(name: str, ws_url: str | None = None, rest_url: str | None = None) -> ExchangeProtocol:
    """The protocol for `name`; `ws_url`/`rest_url` replace the bases (the exchange's own
    paths are still appended, so `ws://127.0.0.1:P` becomes `ws://127.0.0.1:P/stream?...`)."""
    cls = _PROTOCOLS.get(name.strip().lower())
    if cls is None:
        raise ValueError(f"Unknown exchange {name!r}. Valid exchanges: {', '.join(EXCHANGE_NAMES)}.")
    return cls(ws_url, rest_url)


def resolve_symbol(protocol: ExchangeProtocol | str, ref: SymbolRef | str, *,
                   exchange_option: str = CLI_EXCHANGE_OPTION) -> str:
    """The exchange spelling of a user's symbol, refusing a symbol written for the other
    kind of market (ccxt `ETH/USDT:USDT` is a linear perpetual) instead of silently
    streaming the spot pair of the same name. `exchange_option` spells the suggested
    exchanges as the caller's user types them (PYTHON_EXCHANGE_OPTION for scripts)."""
    proto = get_protocol(protocol) if isinstance(protocol, str) else protocol
    parsed = parse_symbol(ref) if isinstance(ref, str) else ref
    if parsed.kind is MarketKind.LINEAR and proto.market_kind is not MarketKind.LINEAR:
        written = f"{parsed.base}/{parsed.quote}:{parsed.quote}" if parsed.base else parsed.name
        raise MarketKindMismatchError(
            parsed.name, proto.name,
            f"{written} is a perpetual (linear) contract, but {proto.display_name} is a spot "
            f"market. Use {' or '.join(exchange_option.format(name) for name in _LINEAR_EXCHANGES)}, or write {parsed.name} for the spot pair.",
        )
    return parsed.name
