"""The Alerts screen: the armed rules (targets masked), add / remove / test-send, the ledger.

Rules live in the config file (config.py: 0600, written atomically), the same file the
`alert` command edits, so both see the same rules; a rule is written in the one grammar
(`price above 120000`, `rsi < 25`, ...) and a rule that does not read shows the grammar
sentence under the form. The delivery ledger (sent / retried / dropped, with the error) is
read from the journal database, newest first, a page at a time; no secret is ever shown:
targets are masked by the alerts side before they reach a table or the ledger.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from cryptoai_tui.alerts.notifiers import mask_target, parse_target
from cryptoai_tui.alerts.rules import AlertRule, RuleError, parse_condition
from cryptoai_tui.config import ConfigError, UserConfig, load_config, save_config

LEDGER_ROWS = 50
RULE_COLUMNS = ("id", "symbol", "tf", "rule", "notify", "frequency", "cooldown", "in app")
LEDGER_COLUMNS = ("time (UTC)", "state", "target", "rules", "try", "alerts", "status", "error")


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _cooldown(seconds: float) -> str:
    if not seconds:
        return "none"
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def rule_cells(rule: AlertRule) -> tuple[str, ...]:
    return (
        rule.id, rule.symbol, rule.interval or "any", rule.condition.describe(),
        ", ".join(mask_target(url) for url in rule.notify) or "in the app only",
        rule.frequency.value, _cooldown(rule.cooldown_s),
        ", ".join(rule.app_notify) if rule.in_app else "off",
    )


class AlertsScreen(Screen[None]):
    CSS_PATH = "alerts.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="back to where you came from"),
        Binding("a", "add", "Add", tooltip="write a new rule in the form below"),
        Binding("d", "remove", "Remove", tooltip="disarm the highlighted rule"),
        Binding("t", "test", "Test", tooltip="send a test message to the highlighted rule's targets"),
        Binding("r", "refresh", "Refresh", tooltip="read the rules and the delivery ledger again"),
    ]

    def __init__(self, config_path: Path | None, journal_path: Path | None) -> None:
        super().__init__()
        self._config_path = config_path
        self._journal_path = journal_path
        self._config = UserConfig()

    def compose(self) -> ComposeResult:
        yield Label(Content("Alerts"), id="alerts-title")
        yield Static("", id="alerts-status")
        yield DataTable(id="alerts-rules", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="alerts-form"):
            yield Input(placeholder="symbol, e.g. BTCUSDT", id="alerts-symbol")
            yield Input(placeholder="rule, e.g. price above 120000 or rsi < 25", id="alerts-rule")
            yield Input(placeholder="notify URL (optional), e.g. tgram://TOKEN/CHAT", id="alerts-notify")
        yield Static("", id="alerts-message")
        yield Label(Content("Delivery ledger (newest first)"), id="alerts-ledger-title")
        yield DataTable(id="alerts-ledger", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#alerts-rules", DataTable).add_columns(*RULE_COLUMNS)
        self.query_one("#alerts-ledger", DataTable).add_columns(*LEDGER_COLUMNS)
        self.action_refresh()
        self.query_one("#alerts-rules", DataTable).focus()

    # --- reading ---------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self._load_rules()
        self._load_ledger()

    def _load_rules(self) -> None:
        table = self.query_one("#alerts-rules", DataTable)
        table.clear()
        if self._config_path is None:
            self._status("No config file: alerts are off in this app.")
            return
        try:
            self._config = load_config(self._config_path)
        except ConfigError as error:
            self._say(str(error), error=True)
            return
        for rule in self._config.alerts:
            table.add_row(*rule_cells(rule), key=rule.id)
        count = len(self._config.alerts)
        self._status(f"{count} rule{'s' if count != 1 else ''} armed · {self._config_path.name} (mode 0600)"
                     " · price rules on every update, signal rules on confirmed candles")

    def _load_ledger(self) -> None:
        table = self.query_one("#alerts-ledger", DataTable)
        table.clear()
        path = self._journal_path
        if path is None or not path.exists():
            return
        from cryptoai_tui.journal.store import JournalError, JournalStore

        try:
            with JournalStore(path) as store:
                lines = store.deliveries(limit=LEDGER_ROWS)
        except JournalError as error:
            self._say(str(error), error=True)
            return
        for row_id, d in lines:
            table.add_row(_time(d.at_ms), d.state, d.target, ", ".join(d.rule_ids), str(d.attempt),
                          str(d.alerts), "" if d.status is None else str(d.status), d.error, key=str(row_id))

    def _status(self, text: str) -> None:
        self.query_one("#alerts-status", Static).update(Content(text))

    def _say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#alerts-message", Static)
        message.update(Content(text))
        message.set_class(error, "-error")

    def _selected(self) -> AlertRule | None:
        table = self.query_one("#alerts-rules", DataTable)
        index = table.cursor_row
        rules = self._config.alerts
        return rules[index] if 0 <= index < len(rules) else None

    # --- editing ---------------------------------------------------------------------------
    def action_add(self) -> None:
        self.query_one("#alerts-symbol", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._add()

    def _add(self) -> None:
        if self._config_path is None:
            self._say("There is no config file to keep the rule in.", error=True)
            return
        symbol = self.query_one("#alerts-symbol", Input).value.strip().upper().replace("/", "").replace("-", "")
        rule_text = self.query_one("#alerts-rule", Input).value
        notify = self.query_one("#alerts-notify", Input).value.strip()
        try:
            if not symbol:
                raise RuleError("A rule needs a symbol, e.g. BTCUSDT.")
            condition = parse_condition(rule_text)
            if notify:
                parse_target(notify)
            config = load_config(self._config_path)
            rule = AlertRule(config.next_alert_id(), symbol, condition, notify=(notify,) if notify else ())
            save_config(self._config_path, config.with_alert(rule))
        except (RuleError, ConfigError) as error:
            self._say(str(error), error=True)
            return
        for widget_id in ("#alerts-rule", "#alerts-notify"):
            self.query_one(widget_id, Input).value = ""
        self._load_rules()
        self._say(f"Armed alert {rule.id}: {rule.describe()}. It fires in sessions started from now on.")
        self.query_one("#alerts-rules", DataTable).focus()

    def action_remove(self) -> None:
        rule = self._selected()
        if rule is None or self._config_path is None:
            self._say("Highlight a rule to remove first.", error=True)
            return
        try:
            save_config(self._config_path, load_config(self._config_path).without_alert(rule.id))
        except ConfigError as error:
            self._say(str(error), error=True)
            return
        self._load_rules()
        self._say(f"Removed alert {rule.id}.")

    def action_test(self) -> None:
        rule = self._selected()
        if rule is None:
            self._say("Highlight a rule to test first.", error=True)
            return
        if not rule.notify:
            self._say(f"Alert {rule.id} has no notify target; it shows in the app only.")
            return
        self._say(f"Sending a test of alert {rule.id} ...")
        self._send_test(rule)

    @work(exclusive=True, group="alert-test", exit_on_error=False)
    async def _send_test(self, rule: AlertRule) -> None:
        """Deliver through the same dispatcher as live alerts (retries, limits, ledger)."""
        from cryptoai_tui.alerts.book import Alert
        from cryptoai_tui.alerts.dispatcher import Delivery, Dispatcher

        ledger: list[Delivery] = []
        dispatcher = Dispatcher(ledger=ledger.append)
        dispatcher.submit(Alert(rule.id, rule.symbol, rule.interval or "", f"Test of alert {rule.id}: "
                                f"{rule.describe()}", 0, 0, 0.0), [parse_target(u) for u in rule.notify])
        await dispatcher.close(timeout_s=60.0)
        self._store_ledger(ledger)
        final = [d for d in ledger if d.state != "retried"]
        failed = [d for d in final if d.state == "dropped"]
        if failed:
            self._say("; ".join(f"{d.target}: dropped ({d.error})" for d in failed), error=True)
        else:
            self._say(f"Test of alert {rule.id} sent to " + ", ".join(d.target for d in final) + ".")
        self._load_ledger()

    def _store_ledger(self, ledger: list[object]) -> None:
        if self._journal_path is None or not ledger:
            return
        from cryptoai_tui.journal.hooks import delivery_record
        from cryptoai_tui.journal.store import JournalError, JournalStore

        try:
            with JournalStore(self._journal_path) as store:
                store.record_deliveries([delivery_record(d) for d in ledger])  # type: ignore[arg-type,misc]
        except JournalError as error:
            self._say(str(error), error=True)

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#alerts-rules", DataTable).focus()
            return
        self.dismiss(None)
