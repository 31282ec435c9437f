"""cryptoai-tui: a keyboard-driven terminal Strategy Lab for crypto markets.

`from cryptoai_tui import StreamManager` works, but the script API is loaded only when it is
first asked for, so `cryptoai-tui --help` and the app's start-up do not pay for it.
"""

from __future__ import annotations

from typing import Any

from cryptoai_tui.version import __version__

_API_NAMES = ("StreamManager", "RealTimeDataManager", "fetch_realtime_data")

__all__ = ["__version__", *_API_NAMES]


def __getattr__(name: str) -> Any:
    if name in _API_NAMES:
        from cryptoai_tui import api

        return getattr(api, name)
    raise AttributeError(f"module 'cryptoai_tui' has no attribute {name!r}")
