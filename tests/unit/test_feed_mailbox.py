"""The feed's mailbox (coalescing at the source) and its connect-error sentences, without sockets."""

from __future__ import annotations

import asyncio
import socket

import pytest
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
from websockets.http11 import Response

from cryptoai_tui.exchanges.errors import ExchangeUnavailableError, FeedConfigError, RateLimitedError
from cryptoai_tui.feed import FeedConfigError as FeedConfigErrorFromFeed
from cryptoai_tui.feed.connect_errors import connect_error
from cryptoai_tui.feed.repair import utc
from cryptoai_tui.feed.status import ConnectionState, FeedStatus, retry_sentence
from cryptoai_tui.feed.streams import Mailbox
from cryptoai_tui.market import Candle, CandleEvent

MINUTE = 60_000


def event(symbol: str, i: int, closed: bool, close: float = 1.0, interval: str = "1m") -> CandleEvent:
    candle = Candle(i * MINUTE, 1.0, max(1.0, close), min(1.0, close), close, 1.0, (i + 1) * MINUTE - 1, closed)
    return CandleEvent("binance", symbol, interval, candle, 0.0, i * MINUTE + 1)


def drain(box: Mailbox) -> list[object]:
    out: list[object] = []
    while True:
        try:
            out.append(box.get_nowait())
        except IndexError:
            return out


def test_mailbox_keeps_every_close_and_status_in_order_and_only_the_newest_forming() -> None:
    box = Mailbox()
    status = FeedStatus(ConnectionState.LIVE, "Live.")
    box.put_candle(event("BTC", 1, False, 1.1))
    box.put_candle(event("ETH", 1, False, 2.1))
    box.put_candle(event("BTC", 1, False, 1.2))  # supersedes BTC 1.1
    box.put(status)
    box.put_candle(event("BTC", 1, False, 1.3))  # supersedes BTC 1.2; moves after the status
    box.put_candle(event("BTC", 1, True, 1.4))  # the close drops the unread forming of its candle
    box.put_candle(event("BTC", 2, False, 1.5))
    box.put_candle(event("BTC", 2, True, 1.6))
    box.put_candle(event("BTC", 3, False, 1.7))
    got = drain(box)
    described = [x if isinstance(x, FeedStatus) else (x.symbol, x.candle.open_time // MINUTE, x.closed, x.candle.close)
                 for x in got]
    assert described == [
        ("ETH", 1, False, 2.1), status, ("BTC", 1, True, 1.4), ("BTC", 2, True, 1.6), ("BTC", 3, False, 1.7),
    ]
    assert box.coalesced == 4  # BTC 1.1, 1.2, 1.3 and 1.5


def test_a_forming_update_read_already_is_not_coalesced_with_the_next() -> None:
    box = Mailbox()
    box.put_candle(event("BTC", 1, False, 1.1))
    assert box.get_nowait().candle.close == 1.1
    box.put_candle(event("BTC", 1, False, 1.2))
    box.put_candle(event("BTC", 1, False, 1.3))
    assert [e.candle.close for e in drain(box)] == [1.3]
    assert box.coalesced == 1


async def test_a_waiting_reader_wakes_for_the_next_item() -> None:
    box = Mailbox()
    reader = asyncio.ensure_future(box.get())
    await asyncio.sleep(0)
    assert not reader.done()
    box.put_candle(event("BTC", 1, True))
    assert (await asyncio.wait_for(reader, 1.0)).closed


def test_retry_time_is_data_and_the_sentence_is_the_front_ends() -> None:
    status = FeedStatus(ConnectionState.RECONNECTING, "The connection was lost.", retry_in=4.2, at=100.0,
                        retry_at=104.2)
    assert "4.2" not in status.message
    assert status.retry_left(102.0) == pytest.approx(2.2)
    assert status.retry_left(200.0) == 0.0
    assert retry_sentence(status.state, status.retry_in) == "Reconnecting in 4.2 s."
    assert retry_sentence(ConnectionState.BOOTSTRAPPING, 2.0) == "Retrying in 2.0 s."
    assert retry_sentence(ConnectionState.RECONNECTING, 0.0) == "Reconnecting now."
    assert retry_sentence(ConnectionState.LIVE, None) == ""


def test_candle_times_that_no_calendar_holds_still_make_a_sentence() -> None:
    assert utc(0) == "1970-01-01 00:00 UTC"
    assert "100000000000000000000" in utc(10**20)


# --- connect errors ------------------------------------------------------------------------

URL = "ws://trader:hunter2@127.0.0.1:9/stream?streams=btcusdt@kline_1m"


def say(exc: BaseException, url: str = URL) -> str:
    error = connect_error(exc, url, "Binance", 10.0)
    text = str(error)
    assert "hunter2" not in text
    return text


def test_refused_connection_names_the_host_and_the_simulator() -> None:
    error = connect_error(ConnectionRefusedError(111, "Connection refused"), URL, "Binance", 10.0)
    assert isinstance(error, ExchangeUnavailableError)
    assert str(error) == "127.0.0.1:9 refused the connection: is Binance (or the simulator) running there?"


def test_dns_failure_names_the_host_without_port_or_credentials() -> None:
    text = say(socket.gaierror(-2, "Name or service not known"), "wss://trader:hunter2@stream.example.invalid:9443/ws")
    assert text == "Cannot resolve stream.example.invalid: check the address and your network connection."


def test_timeout_says_how_long_it_waited() -> None:
    assert say(TimeoutError()) == "Timed out connecting to Binance at 127.0.0.1:9 after 10 s."


def test_a_url_that_is_not_a_websocket_address_is_a_config_error_with_the_password_masked() -> None:
    error = connect_error(InvalidURI("http://trader:hunter2@host/", "scheme isn't ws or wss"),
                          "http://trader:hunter2@host/", "Binance", 10.0)
    assert isinstance(error, FeedConfigError) and FeedConfigError is FeedConfigErrorFromFeed
    assert str(error) == "http://trader:***@host/ is not a WebSocket address; use ws://host:port or wss://host."


def test_handshake_failures_are_said_and_http_answers_go_through_the_exchange_grammar() -> None:
    assert say(InvalidHandshake("missing Upgrade header")).startswith(
        "Binance did not complete the WebSocket handshake: missing Upgrade header")
    response = Response(502, "Bad Gateway", Headers(), b"<html>bad gateway</html>")
    assert say(InvalidStatus(response)) == "Binance refused the WebSocket connection (HTTP 502)."
    limited = Response(429, "Too Many", Headers({"Retry-After": "7"}), b"")
    error = connect_error(InvalidStatus(limited), URL, "Binance", 10.0,
                          lambda status, headers, body: RateLimitedError(float(headers["Retry-After"])))
    assert isinstance(error, RateLimitedError) and error.retry_after == 7.0


# --- each front end words the retry itself -------------------------------------------------

def test_the_live_header_counts_down_from_retry_at_and_the_log_states_the_retry() -> None:
    from cryptoai_tui.snapshot import Snapshot
    from cryptoai_tui.strategies.signal import ConfluenceMode
    from cryptoai_tui.tui.live_events import snapshot_events
    from cryptoai_tui.tui.widgets.live_header import state_line

    live = Snapshot("binance", "BTCUSDT", "1h", ConfluenceMode.MAJORITY, ConnectionState.LIVE, "Live.")
    down = Snapshot("binance", "BTCUSDT", "1h", ConfluenceMode.MAJORITY, ConnectionState.RECONNECTING,
                    "127.0.0.1:9 refused the connection.", retry_in=26.0, retry_at=1_000.0 + 26.0)
    # it froze at "reconnecting in 26s" for 25 s: now it follows the clock
    assert state_line(down, now=1_000.0).plain == "↻ reconnecting in 26s: 127.0.0.1:9 refused the connection."
    assert state_line(down, now=1_025.0).plain.startswith("↻ reconnecting in 1s:")
    assert state_line(down, now=1_100.0).plain.startswith("↻ reconnecting in 0s:")
    texts = [e.text for e in snapshot_events(live, down)]
    assert "reconnecting: 127.0.0.1:9 refused the connection. (retry in 26s)" in texts
