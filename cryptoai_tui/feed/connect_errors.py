"""Why a WebSocket connection attempt failed, as a typed error whose message is a sentence.

Pure: an exception in, an ExchangeError out, so every case (refused, DNS, timeout, a URL
that is not a WebSocket address, an HTTP answer instead of a handshake) is unit tested
without a socket. Every URL or host it names goes through `mask_url`/`mask_secrets`: a
password in `--ws-url` is never printed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from cryptoai_tui.exchanges.errors import ExchangeError, ExchangeUnavailableError, FeedConfigError
from cryptoai_tui.exchanges.redact import mask_secrets, mask_url

#: the protocol's `parse_error(status, headers, body)`: an exchange's own refusal, or None
ParseError = Callable[[int, Mapping[str, str], str], ExchangeError | None]


class NeverConnectedError(ExchangeUnavailableError):
    """A feed that has not connected once gave up (`FeedConfig.connect_attempts`): the
    address is most likely wrong or the exchange unreachable from here, so a command ends
    (exit 2) instead of retrying forever."""

    retryable = False


def gave_up(last: ExchangeError, attempts: int) -> NeverConnectedError:
    """The sentence for giving up: the last reason, then how many tries it took."""
    return NeverConnectedError(
        f"{last} Gave up after {attempts} attempts without connecting once; check the address "
        "and the network, then try again."
    )


def connect_error(exc: BaseException, url: str, exchange: str, timeout_s: float,
                  parse_error: ParseError | None = None) -> ExchangeError:
    """The error to report (and act on) for a failed connection attempt to `url`."""
    host = _host(url)
    if isinstance(exc, InvalidStatus):
        response = exc.response
        body = response.body.decode("utf-8", "replace") if response.body else ""
        error = parse_error(response.status_code, response.headers, body) if parse_error else None
        return error or ExchangeUnavailableError(
            f"{exchange} refused the WebSocket connection (HTTP {response.status_code}).")
    if isinstance(exc, InvalidURI):
        return FeedConfigError(
            f"{mask_url(url)} is not a WebSocket address; use ws://host:port or wss://host.")
    if isinstance(exc, TimeoutError):
        return ExchangeUnavailableError(
            f"Timed out connecting to {exchange} at {host} after {timeout_s:g} s.")
    if isinstance(exc, ConnectionRefusedError):
        return ExchangeUnavailableError(
            f"{host} refused the connection: is {exchange} (or the simulator) running there?")
    if exc.__class__.__name__ == "gaierror":
        return ExchangeUnavailableError(
            f"Cannot resolve {host.rsplit('@', 1)[-1].split(':')[0]}: check the address and your "
            "network connection.")
    if isinstance(exc, OSError):
        return ExchangeUnavailableError(
            f"Cannot connect to {exchange} at {host}: {mask_secrets(str(exc.strerror or exc))}.")
    if isinstance(exc, InvalidHandshake):
        return ExchangeUnavailableError(
            f"{exchange} did not complete the WebSocket handshake: {mask_secrets(str(exc))}.")
    return ExchangeUnavailableError(f"Cannot connect to {exchange} at {host}: {mask_secrets(str(exc))}.")


def _host(url: str) -> str:
    """host:port of `url` without credentials (the whole masked URL if it has no host)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
    except ValueError:
        netloc = ""
    return netloc or mask_url(url)
