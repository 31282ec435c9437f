"""Deliver fired alerts to their targets without flooding them and without losing any silently.

One queue and one worker task per target. A worker sends when the target's rate limit has
room; whatever queued meanwhile goes out as one digest ("5 alerts: ...") instead of five
messages, so a burst never gets a Telegram bot banned and never drops an alert. A failed send
is retried with backoff (a 429's Retry-After is waited for exactly), and every attempt is
written to the delivery ledger: sent, retried or dropped, with the error. Targets without a
limit (plain JSON webhooks) get one POST per alert.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

from cryptoai_tui.alerts.book import Alert
from cryptoai_tui.alerts.notifiers import SendResult, Sender, Target, sender_for


@dataclass(frozen=True, slots=True)
class Delivery:
    """One line of the delivery ledger."""

    at_ms: int
    target: str  # masked
    rule_ids: tuple[str, ...]
    state: str  # "sent" | "retried" | "dropped"
    attempt: int
    alerts: int  # how many alerts the message carried (>1: a digest)
    status: int | None = None
    error: str = ""


LedgerSink = Callable[[Delivery], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    delays_s: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)  # between attempts; then dropped
    max_retry_after_s: float = 300.0  # a Retry-After longer than this is taken as this


class _Channel:
    def __init__(self, target: Target, sender: Sender) -> None:
        self.target, self.sender = target, sender
        self.queue: deque[Alert] = deque()
        self.wake = asyncio.Event()
        self.sent_at: deque[float] = deque()
        self.task: asyncio.Task[None] | None = None


class Dispatcher:
    """Async: create and use it on one event loop; `close()` delivers what is queued first."""

    def __init__(
        self,
        *,
        ledger: LedgerSink | None = None,
        retry: RetryPolicy = RetryPolicy(),
        sender_factory: Callable[[Target], Sender] = sender_for,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        title: str = "cryptoai-tui",
    ) -> None:
        self._ledger = ledger
        self._retry = retry
        self._sender_factory = sender_factory
        self._clock = clock
        self._sleep = sleep
        self._title = title
        self._channels: dict[str, _Channel] = {}
        self._closing = False
        self.delivered = 0  # alerts that reached a target
        self.dropped = 0  # alerts given up on after every retry

    def submit(self, alert: Alert, targets: Sequence[Target]) -> None:
        """Queue `alert` for each target; never blocks."""
        for target in targets:
            channel = self._channels.get(target.url)
            if channel is None:
                channel = self._channels[target.url] = _Channel(target, self._sender_factory(target))
                channel.task = asyncio.get_running_loop().create_task(
                    self._run(channel), name=f"alerts:{target.masked}"
                )
            channel.queue.append(alert)
            channel.wake.set()

    @property
    def pending(self) -> int:
        return sum(len(channel.queue) for channel in self._channels.values())

    async def close(self, timeout_s: float = 30.0) -> None:
        """Deliver what is queued (within `timeout_s`), then stop the workers."""
        self._closing = True
        for channel in self._channels.values():
            channel.wake.set()
        tasks = [c.task for c in self._channels.values() if c.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _run(self, channel: _Channel) -> None:
        while True:
            if not channel.queue:
                if self._closing:
                    return
                channel.wake.clear()
                await channel.wake.wait()
                continue
            await self._wait_for_room(channel)
            batch = [channel.queue.popleft()] if channel.target.limit is None else self._take_all(channel)
            await self._deliver(channel, batch)

    @staticmethod
    def _take_all(channel: _Channel) -> list[Alert]:
        batch = list(channel.queue)
        channel.queue.clear()
        return batch

    async def _wait_for_room(self, channel: _Channel) -> None:
        limit = channel.target.limit
        if limit is None:
            return
        while True:
            now = self._clock()
            while channel.sent_at and now - channel.sent_at[0] >= limit.period_s:
                channel.sent_at.popleft()
            if len(channel.sent_at) < limit.messages:
                return
            await self._sleep(limit.period_s - (now - channel.sent_at[0]))

    async def _deliver(self, channel: _Channel, batch: list[Alert]) -> None:
        body = batch[0].text if len(batch) == 1 else _digest(batch)
        rule_ids = tuple(dict.fromkeys(alert.rule_id for alert in batch))
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                await self._wait_for_room(channel)
            try:
                result = await channel.sender.send(self._title, body)
            except Exception as error:  # a sender bug must cost one message, not the worker
                result = SendResult(False, error=f"{type(error).__name__}: {error}")
            finally:
                # The slot is booked when the send has finished, not when it began: the
                # service counts a message when it arrives, and a send delayed on the way
                # (a loaded machine, a slow link) would otherwise land in the next window
                # beside the ones that follow it, one more than the limit allows.
                channel.sent_at.append(self._clock())
            if result.ok:
                self.delivered += len(batch)
                self._record(channel, rule_ids, "sent", attempt, len(batch), result)
                return
            if attempt > len(self._retry.delays_s):
                self.dropped += len(batch)
                self._record(channel, rule_ids, "dropped", attempt, len(batch), result)
                return
            self._record(channel, rule_ids, "retried", attempt, len(batch), result)
            delay = self._retry.delays_s[attempt - 1]
            if result.retry_after is not None:
                delay = min(result.retry_after, self._retry.max_retry_after_s)
            await self._sleep(delay)

    def _record(self, channel: _Channel, rule_ids: tuple[str, ...], state: str, attempt: int,
                alerts: int, result: SendResult) -> None:
        if self._ledger is not None:
            self._ledger(Delivery(int(time.time() * 1000), channel.target.masked, rule_ids, state,
                                  attempt, alerts, result.status, result.error))


def _digest(batch: list[Alert]) -> str:
    lines = [f"{len(batch)} alerts:"] + [f"- {alert.text}" for alert in batch]
    return "\n".join(lines)
