"""Where an alert goes: a notification URL in apprise's syntax, and the sender behind it.

Every target is an apprise URL (`tgram://bot_token/chat_id`, `discord://id/token`,
`slack://...`, `ntfy://topic`, `mailto://...`, `json://host:port/path`). Plain JSON webhooks
(`json://`, `jsons://`) are posted by our own httpx sender with apprise's JSON payload shape,
because the dispatcher needs what apprise does not report: the HTTP status and a 429's
Retry-After. Every other service goes through apprise itself, imported only when such a target
is first used (it is not on the start-up path).

A `limit=N/PERIOD` query parameter on any target (e.g. `json://host/hook?limit=5/10s`) sets or
overrides its rate limit; it is ours and is removed before the URL is used.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cryptoai_tui.alerts.rules import RuleError, parse_duration
from cryptoai_tui.exchanges.redact import mask_secrets, mask_url


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `messages` sends per `period_s` seconds to one target."""

    messages: int
    period_s: float

    def describe(self) -> str:
        return f"{self.messages} per {self.period_s:g} s"


#: Each service's published budget (per chat, webhook or topic), kept a little under the edge:
#: Telegram 20 messages a minute to a group (1/s to a chat), Discord webhooks 5 per 2 s,
#: Slack 1 a second, ntfy's default visitor burst, e-mail a conservative 10 a minute.
SERVICE_LIMITS: dict[str, RateLimit] = {
    "tgram": RateLimit(20, 60.0),
    "discord": RateLimit(5, 2.0),
    "slack": RateLimit(1, 1.0),
    "ntfy": RateLimit(10, 10.0),
    "ntfys": RateLimit(10, 10.0),
    "mailto": RateLimit(10, 60.0),
    "mailtos": RateLimit(10, 60.0),
}


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    status: int | None = None
    retry_after: float | None = None
    error: str = ""


class Sender(Protocol):
    async def send(self, title: str, body: str) -> SendResult: ...


@dataclass(frozen=True, slots=True)
class Target:
    """A notification URL, with its rate limit and a masked spelling for screens and logs."""

    url: str
    limit: RateLimit | None

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.lower()

    @property
    def masked(self) -> str:
        return mask_target(self.url)


def mask_target(url: str) -> str:
    """`url` with its secrets hidden: the password, and the token-bearing path of services
    whose path is a credential (a Telegram bot token, a Discord webhook token)."""
    masked = mask_url(url)
    parts = urlsplit(masked)
    if parts.scheme.lower() in ("tgram", "discord", "slack") and (parts.netloc or parts.path):
        return f"{parts.scheme}://***"
    return masked


def parse_target(url: str) -> Target:
    """A Target for `url`, or a RuleError that says what a notification URL looks like."""
    text = url.strip()
    parts = urlsplit(text)
    if not parts.scheme or "://" not in text:
        raise RuleError(
            f"{mask_secrets(text)!r} is not a notification URL: use apprise's syntax, e.g. "
            "tgram://BOT_TOKEN/CHAT_ID, discord://WEBHOOK_ID/TOKEN or json://host:port/path."
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    limit = SERVICE_LIMITS.get(parts.scheme.lower())
    kept = []
    for key, value in query:
        if key == "limit":
            limit = _parse_limit(value)
        else:
            kept.append((key, value))
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))
    return Target(clean, limit)


def _parse_limit(text: str) -> RateLimit:
    count, _, period = text.partition("/")
    try:
        messages = int(count)
        seconds = parse_duration(period or "1s")
    except (ValueError, RuleError):
        raise RuleError(f"limit={text!r} is not a rate: write it like limit=5/10s.") from None
    if messages <= 0 or seconds <= 0:
        raise RuleError(f"limit={text!r} must allow at least one message in a positive period.")
    return RateLimit(messages, seconds)


def sender_for(target: Target, *, timeout_s: float = 10.0) -> Sender:
    if target.scheme in ("json", "jsons"):
        return JsonWebhookSender(target, timeout_s=timeout_s)
    return AppriseSender(target)


class JsonWebhookSender:
    """POSTs apprise's JSON payload ({version, title, message, type}) and reports the status."""

    def __init__(self, target: Target, *, timeout_s: float = 10.0) -> None:
        parts = urlsplit(target.url)
        scheme = "https" if parts.scheme.lower() == "jsons" else "http"
        self._url = urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))
        self._target = target
        self._timeout_s = timeout_s

    async def send(self, title: str, body: str) -> SendResult:
        import httpx

        payload = {"version": "1.0", "title": title, "message": body, "attachments": [], "type": "info"}
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                reply = await client.post(self._url, json=payload)
        except httpx.HTTPError as error:
            return SendResult(False, error=mask_secrets(f"{type(error).__name__}: {error}") or type(error).__name__)
        if 200 <= reply.status_code < 300:
            return SendResult(True, reply.status_code)
        return SendResult(
            False, reply.status_code, _retry_after(reply.headers.get("retry-after")),
            f"{self._target.masked} answered HTTP {reply.status_code}",
        )


class AppriseSender:
    """Any other apprise service; apprise reports success or failure, not why."""

    def __init__(self, target: Target) -> None:
        self._target = target
        self._apprise: object | None = None

    async def send(self, title: str, body: str) -> SendResult:
        try:
            import apprise
        except ImportError:  # pragma: no cover - apprise is a dependency
            return SendResult(False, error="apprise is not installed: pip install apprise")
        if self._apprise is None:
            instance = apprise.Apprise()
            if not instance.add(self._target.url):
                return SendResult(False, error=f"apprise does not understand {self._target.masked}")
            self._apprise = instance
        instance = self._apprise
        result = await asyncio.to_thread(instance.notify, body=body, title=title)  # type: ignore[attr-defined]
        status = getattr(result, "status", None)
        ok = (int(status) == 0) if status is not None else bool(result)
        return SendResult(ok, error="" if ok else f"{self._target.masked} did not accept the message")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
