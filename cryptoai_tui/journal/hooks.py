"""What a front end adds to a running engine: the journal recorder and the live alerts.

`signals` and the app's live session both call `session_hooks(engine, plan)` around
`engine.run(...)`, so the two behave the same: confirmed signals are journaled (unless the
journal is off), armed rules for the stream fire, and their delivery ledger is stored in the
journal. Leaving the block delivers what is queued, then flushes the journal.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator, Callable

if TYPE_CHECKING:
    from cryptoai_tui.alerts.book import Alert
    from cryptoai_tui.alerts.dispatcher import Delivery
    from cryptoai_tui.alerts.live import AlertSession
    from cryptoai_tui.alerts.rules import AlertRule
    from cryptoai_tui.engine import RealtimeStrategyEngine
    from cryptoai_tui.journal.recorder import JournalRecorder

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HooksPlan:
    """Which hooks a session runs: a journal file (None: off) and the armed rules (empty: none).

    `all_history`: the session replays history (a CSV): every entry is flagged history, and
    alerts (armed only with --alerts then) judge every candle; a live session's start-up
    history only primes them.
    `on_alert`: the front end's own quick reaction to a fired rule (the app's toast)."""

    journal_path: Path | None = None
    rules: tuple[AlertRule, ...] = ()
    all_history: bool = False
    on_alert: Callable[[Alert, AlertRule], None] | None = None
    close_timeout_s: float = 30.0
    #: how the front end says the journal lost something (refused: queue full; failed: disk)
    warn: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class ActiveHooks:
    recorder: JournalRecorder | None
    alerts: AlertSession | None


@contextlib.asynccontextmanager
async def session_hooks(engine: RealtimeStrategyEngine, plan: HooksPlan) -> AsyncIterator[ActiveHooks]:
    """Run `plan`'s hooks on `engine` for the block; JournalError before it starts when the
    journal file cannot be used."""
    with contextlib.ExitStack() as journal:
        recorder = None
        if plan.journal_path is not None:
            from cryptoai_tui.journal.recorder import open_recorder

            opened: list[JournalRecorder] = []
            # registered first, so it runs last: after the writer has flushed and closed
            journal.callback(lambda: opened and _report(opened[0], plan.warn))
            recorder = journal.enter_context(open_recorder(plan.journal_path, engine, all_history=plan.all_history))
            opened.append(recorder)
        async with contextlib.AsyncExitStack() as alerts:
            session = None
            if plan.rules:
                from cryptoai_tui.alerts.live import open_alert_session, rules_for

                if rules_for(plan.rules, engine.symbol, engine.interval.name):
                    session = await alerts.enter_async_context(open_alert_session(
                        engine, plan.rules, ledger=_ledger(recorder), on_alert=plan.on_alert,
                        close_timeout_s=plan.close_timeout_s, history_fires=plan.all_history,
                    ))
            yield ActiveHooks(recorder, session)


def _report(recorder: JournalRecorder, warn: Callable[[str], None] | None) -> None:
    """After the writer has flushed: say if anything submitted did not reach the file."""
    counters = recorder.writer.counters
    if not (counters.refused or counters.failed):
        return
    text = (f"The journal {recorder.writer.path} missed signals: {counters.refused} refused (its queue was "
            f"full), {counters.failed} writes failed{': ' + counters.last_error if counters.last_error else ''}.")
    (warn or log.warning)(text)


def _ledger(recorder: JournalRecorder | None) -> Callable[[Delivery], None]:
    """Ledger lines go to the journal's writer queue; without a journal, a failure is logged."""

    def record(delivery: Delivery) -> None:
        if recorder is not None:
            recorder.writer.submit(delivery_record(delivery))  # type: ignore[arg-type]
        elif delivery.state != "sent":
            from cryptoai_tui.exchanges.redact import mask_secrets

            log.warning("Alert delivery to %s %s: %s", delivery.target, delivery.state, mask_secrets(delivery.error))

    return record


def delivery_record(delivery: Delivery) -> object:
    """The journal's ledger line for `delivery`: here, where the journal meets the alerts
    (the alerts never import the journal)."""
    from cryptoai_tui.journal.entry import DeliveryRecord

    return DeliveryRecord(delivery.at_ms, delivery.target, delivery.rule_ids, delivery.state,
                          delivery.attempt, delivery.alerts, delivery.status, delivery.error)
