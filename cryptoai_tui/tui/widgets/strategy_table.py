"""One row per strategy: its trigger, its stance, confidence, key values, when it last
triggered, and its reason or error.

The strategy column shows the strategy as chosen, parameters included (`rsi:period=10`),
so a tuned strategy is never mistaken for the stock one; rows stay keyed by row name. The
last trigger ("BUY 3 candles ago") is tracked by the engine's publisher and read from the
Snapshot, not counted here.

Rows are keyed by strategy name and only cells whose text changed are updated, with fixed
column widths, so a frame costs a handful of `update_cell` calls rather than a rebuild.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from cryptoai_tui.snapshot import LastTrigger, StrategyRow
from cryptoai_tui.strategies.signal import Action, Stance
from cryptoai_tui.tui.formatting import format_confidence, format_values

Column = tuple[str, str, int]  # (key, label, width); width 0: whatever is left

WIDE_COLUMNS: tuple[Column, ...] = (
    ("strategy", "Strategy", 16),
    ("signal", "Trigger", 7),
    ("stance", "Stance", 9),
    ("confidence", "Conf", 5),
    ("values", "Key values", 22),
    ("last", "Last trigger", 19),
    ("note", "Reason / error", 0),
)
NARROW_COLUMNS: tuple[Column, ...] = (
    ("strategy", "Strategy", 15),
    ("signal", "Trigger", 7),
    ("stance", "", 1),
    ("confidence", "Conf", 5),
    ("values", "Key values", 20),
    ("note", "Reason / error", 0),
)
WIDE_FROM = 100  # table width (cells) from which the stance words and "Last trigger" fit
_CELL_PADDING = 2  # DataTable pads each cell by one on both sides
_MIN_NOTE = 12
_ROOMY_NOTE = 70  # a reason this long reads whole; width beyond it goes to the key values
_MAX_VALUES = 48  # three key values with their names, uncut


def column_layout(width: int) -> tuple[Column, ...]:
    """Fixed widths for a table `width` cells wide; the note column takes the rest, and on
    very wide tables the key values grow first so they are not cut while the note has room."""
    columns = WIDE_COLUMNS if width >= WIDE_FROM else NARROW_COLUMNS
    used = sum(w + _CELL_PADDING for _, _, w in columns if w) + _CELL_PADDING
    note = max(_MIN_NOTE, width - used - 1)
    widths = dict((key, w) for key, _, w in columns)
    extra = min(_MAX_VALUES - widths["values"], max(0, note - _ROOMY_NOTE))
    widths["values"] += extra
    note -= extra
    return tuple((key, label, widths[key] or note) for key, label, _ in columns)

_STANCE_LOOK = {
    # stance: (wide text, narrow text, component class)
    Stance.BULLISH: ("▲ bullish", "▲", "strategy-table--buy"),
    Stance.BEARISH: ("▼ bearish", "▼", "strategy-table--sell"),
    Stance.NEUTRAL: ("· neutral", "·", "strategy-table--muted"),
}


def last_trigger_text(last: LastTrigger | None) -> str:
    """"BUY 3 candles ago", "SELL at the last close", "—" when it has not triggered."""
    if last is None:
        return "—"
    if last.candles_ago == 0:
        return f"{last.action.value} last close"
    plural = "s" if last.candles_ago != 1 else ""
    return f"{last.action.value} {last.candles_ago} candle{plural} ago"


_ACTION_CLASS = {
    Action.BUY: "strategy-table--buy",
    Action.SELL: "strategy-table--sell",
    Action.HOLD: "strategy-table--hold",
    Action.WARMUP: "strategy-table--warmup",
    Action.ERROR: "strategy-table--error",
}


class StrategyTable(DataTable[Text]):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "strategy-table--buy",
        "strategy-table--sell",
        "strategy-table--hold",
        "strategy-table--warmup",
        "strategy-table--error",
        "strategy-table--muted",
    }

    def __init__(self, *, interval: str | None = None, id: str | None = None) -> None:
        """`interval` is the session's timeframe (kept for callers; the table counts candles)."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_cursor=False)
        self._interval = interval
        self._labels: dict[str, str] = {}
        self._last: dict[str, LastTrigger | None] = {}
        # What each cell shows, as (text, style) so an unchanged cell is never touched.
        self._cells: dict[tuple[str, str], tuple[str, str]] = {}
        self._names: tuple[str, ...] = ()
        self._rows: tuple[StrategyRow, ...] = ()
        self.columns_shown: tuple[Column, ...] = ()

    def on_resize(self) -> None:
        layout = column_layout(self.size.width)
        if layout != self.columns_shown:
            self._set_columns(layout)

    def _set_columns(self, layout: tuple[Column, ...]) -> None:
        """Only on a width change: rebuild columns and rows (a frame never does this)."""
        self.clear(columns=True)
        self.columns_shown = layout
        for key, label, width in layout:
            self.add_column(label, width=width, key=key)
        self._names = ()
        if self._rows:
            self.show_rows(self._rows, tuple(self._last.get(row.name) for row in self._rows))

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def row_cells(self, row: StrategyRow) -> dict[str, Text]:
        signal = row.signal
        wide = any(key == "last" for key, _, _ in self.columns_shown)
        stance_wide, stance_narrow, stance_class = _STANCE_LOOK[signal.stance]
        last = self._last.get(row.name)
        action = Action.ERROR if row.error else signal.action
        action_style = self._style(_ACTION_CLASS[action])
        muted = self._style("strategy-table--muted")
        if row.error:
            note = Text(row.error, style=self._style("strategy-table--error"), no_wrap=True, overflow="ellipsis")
        else:
            note = Text(signal.reason, style=muted, no_wrap=True, overflow="ellipsis")
        return {
            "strategy": Text(self._labels.get(row.name, row.name), no_wrap=True, overflow="ellipsis"),
            "signal": Text(action.value, style=action_style + Style(bold=True)),
            "stance": Text(stance_wide if wide else stance_narrow, style=self._style(stance_class)),
            "confidence": Text(format_confidence(signal.confidence) if action in (Action.BUY, Action.SELL) else "", justify="right"),
            "values": Text(format_values(signal.values), no_wrap=True, overflow="ellipsis"),
            "last": Text(
                last_trigger_text(last),
                style=self._style(_ACTION_CLASS[last.action]) if last is not None else muted,
                no_wrap=True,
            ),
            "note": note,
        }

    def show_rows(
        self,
        rows: tuple[StrategyRow, ...],
        last_triggers: tuple[LastTrigger | None, ...] = (),
        labels: tuple[str, ...] = (),
    ) -> int:
        """Apply a snapshot's rows (with its `last_triggers` and `labels`, same order);
        returns how many cells changed (0 when nothing moved)."""
        self._rows = rows
        if labels:
            self._labels = {row.name: label for row, label in zip(rows, labels)}
        self._last = {row.name: last for row, last in zip(rows, last_triggers)}
        if not self.columns_shown:
            return 0  # not laid out yet: on_resize draws the rows it remembers
        names = tuple(row.name for row in rows)
        keys = [key for key, _, _ in self.columns_shown]
        if names != self._names:
            self.clear()
            self._cells.clear()
            for row in rows:
                cells = self.row_cells(row)
                self.add_row(*(cells[key] for key in keys), key=row.name)
                for key in keys:
                    self._cells[(row.name, key)] = (cells[key].plain, str(cells[key].style))
            self._names = names
            return len(rows) * len(keys)
        changed = 0
        for row in rows:
            cells = self.row_cells(row)
            for key in keys:
                text = cells[key]
                seen = (text.plain, str(text.style))
                if self._cells.get((row.name, key)) != seen:
                    self._cells[(row.name, key)] = seen
                    self.update_cell(row.name, key, text)
                    changed += 1
        return changed
