"""In-app notifications for a fired alert: a toast, the terminal bell, a desktop notification.

The desktop notification is the terminal's own escape sequence, so it works over SSH and
needs no daemon: OSC 9 (`ESC ] 9 ; text BEL`: iTerm2, WezTerm, Ghostty, Windows Terminal,
ConEmu, kitty) or OSC 777 (`ESC ] 777 ; notify ; title ; body BEL`: rxvt-unicode, foot, and
VTE terminals such as GNOME Terminal and Tilix). Which one a terminal understands is read
from TERM_PROGRAM / TERM / VTE_VERSION / WT_SESSION; a terminal that understands neither
gets none, because an unknown OSC can show up as garbage on screen. Inside tmux the sequence
is wrapped in tmux's passthrough so it reaches the outer terminal.

Each rule chooses its channels (`app_notify` in the rule's config: toast, bell, desktop).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Callable, Mapping

if TYPE_CHECKING:
    from textual.app import App

    from cryptoai_tui.alerts.book import Alert
    from cryptoai_tui.alerts.rules import AlertRule


class DesktopEscape(str, Enum):
    OSC9 = "osc9"
    OSC777 = "osc777"


_OSC9_PROGRAMS = ("iterm.app", "wezterm", "ghostty", "conemu", "kitty", "windows terminal")
_OSC777_TERMS = ("rxvt", "foot")


def desktop_escape(env: Mapping[str, str] | None = None) -> DesktopEscape | None:
    """The desktop-notification escape this terminal understands, or None."""
    env = os.environ if env is None else env
    program = env.get("TERM_PROGRAM", "").lower()
    term = env.get("TERM", "").lower()
    if any(name in program for name in _OSC9_PROGRAMS) or "kitty" in term or env.get("WT_SESSION") \
            or env.get("ConEmuANSI") == "ON":
        return DesktopEscape.OSC9
    if term.startswith(_OSC777_TERMS) or env.get("VTE_VERSION"):
        return DesktopEscape.OSC777
    return None


def _clean(text: str) -> str:
    """No control characters (an ESC or BEL inside would end the sequence early) and no ';'
    in OSC 777's title field."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


def escape_sequence(kind: DesktopEscape, title: str, body: str, *, in_tmux: bool = False) -> str:
    """The bytes that ask the terminal for a desktop notification."""
    if kind is DesktopEscape.OSC9:
        sequence = f"\x1b]9;{_clean(title)}: {_clean(body)}\x07"
    else:
        sequence = f"\x1b]777;notify;{_clean(title).replace(';', ',')};{_clean(body)}\x07"
    if in_tmux:  # tmux's passthrough: ESC P tmux; <sequence with ESC doubled> ESC \
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


@dataclass(frozen=True, slots=True)
class NotificationChannels:
    """Where one alert shows in the app (from the rule's `app_notify`)."""

    toast: bool = True
    bell: bool = True
    desktop: bool = True

    @classmethod
    def of(cls, rule: AlertRule) -> NotificationChannels:
        if not rule.in_app:
            return cls(False, False, False)
        chosen = set(rule.app_notify)
        return cls("toast" in chosen, "bell" in chosen, "desktop" in chosen)


class InAppNotifier:
    """Shows fired alerts in one app. Quick (the engine's task calls it): a toast is queued
    by Textual, the bell and the escape are a few bytes to the terminal."""

    def __init__(self, app: App[object], *, env: Mapping[str, str] | None = None,
                 write: Callable[[str], None] | None = None) -> None:
        self._app = app
        environment = os.environ if env is None else env
        self._escape = desktop_escape(environment)
        self._in_tmux = bool(environment.get("TMUX"))
        self._write = write if write is not None else self._write_to_terminal
        self.shown = 0

    @property
    def escape(self) -> DesktopEscape | None:
        return self._escape

    def __call__(self, alert: Alert, rule: AlertRule) -> None:
        channels = NotificationChannels.of(rule)
        self.shown += 1
        if channels.toast:
            self._app.notify(alert.text, title=f"Alert {rule.id}", severity="warning", timeout=8, markup=False)
        if channels.bell:
            self._app.bell()
        if channels.desktop and self._escape is not None:
            self._write(escape_sequence(self._escape, f"cryptoai-tui alert {rule.id}", alert.text,
                                        in_tmux=self._in_tmux))

    def _write_to_terminal(self, text: str) -> None:
        # Textual has no public call for an arbitrary OSC; it writes its own (OSC 52 in
        # copy_to_clipboard, BEL in bell) through the driver exactly like this.
        driver = getattr(self._app, "_driver", None)
        if driver is not None and not self._app.is_headless:
            driver.write(text)
