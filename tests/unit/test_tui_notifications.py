"""In-app notifications: which terminal gets which desktop escape, the exact bytes, and the
per-rule channels."""

from __future__ import annotations

from cryptoai_tui.alerts.book import Alert
from cryptoai_tui.alerts.rules import AlertRule, parse_condition
from cryptoai_tui.tui.notifications import (
    DesktopEscape,
    InAppNotifier,
    NotificationChannels,
    desktop_escape,
    escape_sequence,
)


def test_terminals_are_told_apart_by_their_environment() -> None:
    assert desktop_escape({"TERM_PROGRAM": "iTerm.app"}) is DesktopEscape.OSC9
    assert desktop_escape({"TERM_PROGRAM": "WezTerm"}) is DesktopEscape.OSC9
    assert desktop_escape({"TERM": "xterm-kitty"}) is DesktopEscape.OSC9
    assert desktop_escape({"WT_SESSION": "abc"}) is DesktopEscape.OSC9
    assert desktop_escape({"TERM": "rxvt-unicode-256color"}) is DesktopEscape.OSC777
    assert desktop_escape({"TERM": "foot"}) is DesktopEscape.OSC777
    assert desktop_escape({"TERM": "xterm-256color", "VTE_VERSION": "7006"}) is DesktopEscape.OSC777
    assert desktop_escape({"TERM": "xterm-256color"}) is None  # unknown: nothing, no garbage
    assert desktop_escape({"TERM": "linux"}) is None


def test_sequences_are_exact_and_cannot_be_broken_by_the_text() -> None:
    assert escape_sequence(DesktopEscape.OSC9, "t", "BTC above 120,000") == "\x1b]9;t: BTC above 120,000\x07"
    assert escape_sequence(DesktopEscape.OSC777, "a;b", "x\x07y") == "\x1b]777;notify;a,b;x y\x07"
    wrapped = escape_sequence(DesktopEscape.OSC9, "t", "b", in_tmux=True)
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;t: b\x07\x1b\\"


class _App:
    is_headless = False

    def __init__(self) -> None:
        self.toasts: list[str] = []
        self.bells = 0

    def notify(self, message: str, **kwargs: object) -> None:
        self.toasts.append(message)

    def bell(self) -> None:
        self.bells += 1


def test_each_rule_chooses_its_channels() -> None:
    app, written = _App(), []
    notifier = InAppNotifier(app, env={"TERM_PROGRAM": "iTerm.app"}, write=written.append)  # type: ignore[arg-type]
    alert = Alert("a1", "BTCUSDT", "1h", "BTCUSDT price above 120,000: 120,500", 0, 0, 120_500.0)
    everything = AlertRule("a1", "BTCUSDT", parse_condition("price above 120000"))
    toast_only = AlertRule("a1", "BTCUSDT", parse_condition("price above 120000"), app_notify=("toast",))
    silent = AlertRule("a1", "BTCUSDT", parse_condition("price above 120000"), in_app=False)
    notifier(alert, everything)
    notifier(alert, toast_only)
    notifier(alert, silent)
    assert app.toasts == [alert.text, alert.text]
    assert app.bells == 1
    assert written == ["\x1b]9;cryptoai-tui alert a1: BTCUSDT price above 120,000: 120,500\x07"]
    assert NotificationChannels.of(silent) == NotificationChannels(False, False, False)
