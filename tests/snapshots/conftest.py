"""Keep the shell's settings and blinking cursors out of screenshots."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(autouse=True)
def _steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor is on or off depending on when the screenshot is taken; product
    code keeps its blink, tests switch it off here (harlequin's functional conftest does
    the same)."""
    original = Input.__init__

    def steady(self: Input, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.cursor_blink = False

    monkeypatch.setattr(Input, "__init__", steady)
