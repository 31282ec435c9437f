"""Alerts delivered to a real loopback HTTP receiver through json:// targets."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cryptoai_tui.alerts.book import Alert, AlertBook, PriceTick
from cryptoai_tui.alerts.dispatcher import Delivery, Dispatcher, RetryPolicy
from cryptoai_tui.alerts.notifiers import parse_target
from cryptoai_tui.alerts.rules import AlertRule, Frequency, parse_condition

DEADLINE_S = 30.0  # a hang guard, not a speed requirement


class Receiver:
    """Records every POST; answers from a script of (status, headers), then 200."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        self.times: list[float] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.bodies.append(body)
                    receiver.times.append(time.monotonic())
                    status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook", query: str = "") -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}{path}{query}"

    def messages(self) -> list[str]:
        with self.lock:
            return [str(body["message"]) for body in self.bodies]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _alert(n: int, rule: str = "r") -> Alert:
    return Alert(rule, "BTCUSDT", "1m", f"alert {n}", n, n, 100.0 + n)


async def test_a_replay_crossing_a_level_k_times_delivers_exactly_what_each_frequency_allows(receiver: Receiver) -> None:
    # closes cross 100 upwards at minutes 1, 5, 9 and 13
    prices = [99, 101, 98, 97, 96, 102, 99, 98, 97, 103, 99, 98, 97, 104, 105]
    ticks = [PriceTick("BTCUSDT", "1m", p, i * 60_000, i * 60_000, closed=True) for i, p in enumerate(prices)]
    cases = {
        "every": (AlertRule("every", "BTCUSDT", parse_condition("price crosses above 100"), frequency=Frequency.EVERY), 4),
        "once": (AlertRule("once", "BTCUSDT", parse_condition("price crosses above 100"), frequency=Frequency.ONCE), 1),
        "cooldown": (AlertRule("cooldown", "BTCUSDT", parse_condition("price crosses above 100"),
                               frequency=Frequency.EVERY, cooldown_s=6 * 60), 2),
    }
    ledger: list[Delivery] = []
    dispatcher = Dispatcher(ledger=ledger.append)
    for name, (rule, _) in cases.items():
        target = parse_target(receiver.url(f"/{name}"))
        book = AlertBook([rule])
        for tick in ticks:
            for alert in book.on_price(tick):
                dispatcher.submit(alert, [target])
    await dispatcher.close(DEADLINE_S)
    with receiver.lock:
        paths = [str(body["message"]) for body in receiver.bodies]
    assert len(paths) == sum(expected for _, expected in cases.values())
    by_rule = {name: sum(1 for d in ledger if d.rule_ids == (name,) and d.state == "sent") for name in cases}
    assert by_rule == {name: expected for name, (_, expected) in cases.items()}
    assert all(d.state == "sent" and d.alerts == 1 for d in ledger)


async def test_a_receiver_that_fails_twice_then_succeeds_gets_the_message_once(receiver: Receiver) -> None:
    receiver.script = [(500, {}), (503, {})]
    ledger: list[Delivery] = []
    dispatcher = Dispatcher(ledger=ledger.append, retry=RetryPolicy(delays_s=(0.05, 0.1, 0.2)))
    dispatcher.submit(_alert(1), [parse_target(receiver.url())])
    await dispatcher.close(DEADLINE_S)
    assert receiver.messages() == ["alert 1"] * 3  # two refused attempts, one accepted
    assert [(d.state, d.attempt, d.status) for d in ledger] == [
        ("retried", 1, 500), ("retried", 2, 503), ("sent", 3, 200)
    ]
    assert dispatcher.delivered == 1 and dispatcher.dropped == 0


async def test_a_429_with_retry_after_is_waited_for(receiver: Receiver) -> None:
    receiver.script = [(429, {"Retry-After": "1"})]
    ledger: list[Delivery] = []
    dispatcher = Dispatcher(ledger=ledger.append, retry=RetryPolicy(delays_s=(0.01,)))
    dispatcher.submit(_alert(1), [parse_target(receiver.url())])
    await dispatcher.close(DEADLINE_S)
    assert receiver.messages() == ["alert 1", "alert 1"]
    assert receiver.times[1] - receiver.times[0] >= 1.0  # it waited as long as it was told
    assert [d.state for d in ledger] == ["retried", "sent"] and ledger[0].status == 429


async def test_a_receiver_that_never_recovers_is_dropped_and_the_ledger_says_why(receiver: Receiver) -> None:
    receiver.script = [(500, {})] * 10
    ledger: list[Delivery] = []
    dispatcher = Dispatcher(ledger=ledger.append, retry=RetryPolicy(delays_s=(0.01, 0.01)))
    dispatcher.submit(_alert(1), [parse_target(receiver.url())])
    await dispatcher.close(DEADLINE_S)
    assert [d.state for d in ledger] == ["retried", "retried", "dropped"]
    assert "HTTP 500" in ledger[-1].error and dispatcher.dropped == 1


async def test_a_flood_of_100_signals_in_a_second_arrives_as_digests_within_the_limit(receiver: Receiver) -> None:
    target = parse_target(receiver.url(query="?limit=3/1s"))
    dispatcher = Dispatcher()
    started = time.monotonic()
    for n in range(100):
        dispatcher.submit(_alert(n), [target])
        if n % 10 == 0:
            await asyncio.sleep(0.01)  # the signals arrive over ~0.1 s, not at once
    arriving_s = time.monotonic() - started
    await dispatcher.close(DEADLINE_S)
    messages = receiver.messages()
    # Folded: while alerts still arrive, at most 3 messages start in any second, and what is
    # left goes as one digest. The bound follows the time the alerts really took to arrive
    # (4 messages when they take ~0.1 s; a loaded machine may stretch the arrival itself).
    assert len(messages) <= 3 * math.ceil(arriving_s) + 1
    delivered = [line for m in messages for line in m.splitlines() if "alert " in line]
    assert sorted(int(line.rsplit(" ", 1)[1]) for line in delivered) == list(range(100))  # none lost
    times = receiver.times
    # Never 4 arrivals within 1 s at the receiver: the dispatcher books each slot when its
    # send has finished, so however late a message travels, no tolerance is needed here.
    assert all(b - a >= 1.0 for a, b in zip(times, times[3:]))
    assert dispatcher.delivered == 100


def test_a_plain_webhook_has_no_limit_and_secrets_are_masked() -> None:
    assert parse_target("json://127.0.0.1:9/hook").limit is None
    assert parse_target("tgram://123456:ABCDEF/987").limit is not None
    assert parse_target("tgram://123456:ABCDEF/987").masked == "tgram://***"
    assert parse_target("json://user:pw@127.0.0.1:9/hook").masked == "json://user:***@127.0.0.1:9/hook"
