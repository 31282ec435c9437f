"""Pick the asset from the exchange's own symbol list, filtered as you type."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Awaitable, Callable, Sequence

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from cryptoai_tui.market.symbol import Symbol, parse_symbol
from cryptoai_tui.tui.asset_search import AssetEntry, filter_assets, order_assets
from cryptoai_tui.tui.screens.help import CHOOSE, MOVE, key_hint

SymbolsLoader = Callable[[], Awaitable[Sequence[Symbol]]]
MAX_SHOWN = 400  # more rows than anyone scrolls through; typing narrows the rest


@dataclass
class FavouriteToggled(Message):
    """The user starred (or unstarred) `symbol` in the picker; bubbles to the app, which
    remembers favourites in the config file."""

    symbol: str
    starred: bool


class ListState(Enum):
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class AssetPicker(ModalScreen[str | None]):
    """Dismisses with the exchange's symbol name (e.g. ETHUSDT), or None on Esc.

    The list loads in a worker owned by this screen, so leaving the picker cancels the
    request; a failure is shown as a sentence with a retry key, never raised.
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, group=MOVE),
        Binding("down", "move(1)", "Down", show=False, group=MOVE),
        # Enter is the filter field's submit (see `_submitted`); bound here for the hint,
        # and so it still chooses after a click has taken the focus off the field
        Binding("enter", "choose", "Choose", show=False, group=CHOOSE),
        Binding("escape", "cancel", "Back"),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
        Binding("ctrl+r", "retry", "Retry"),
        Binding("ctrl+f", "toggle_favourite", "Star",
                tooltip="star or unstar the highlighted asset: starred ones are listed first, every run"),
    ]

    def __init__(
        self,
        exchange_title: str,
        load_symbols: SymbolsLoader,
        *,
        current: str | None = None,
        prompt: str = "",
        favourites: Sequence[str] | None = None,
    ) -> None:
        """`favourites`: the user's starred symbols; default: the app's remembered ones."""
        super().__init__()
        self._starred: set[str] | None = set(favourites) if favourites is not None else None
        self._exchange_title = exchange_title
        self._load_symbols = load_symbols
        self._current = current
        self._prompt = prompt
        self._entries: list[AssetEntry] = []
        self._shown: list[AssetEntry] = []
        self._symbols: tuple[Symbol, ...] = ()

    AUTO_FOCUS = "#asset-filter"

    list_state: reactive[ListState] = reactive(ListState.LOADING, bindings=True, init=False)
    """Loading, ready or failed: Ctrl+R (retry) is offered only after a failure."""

    def compose(self) -> ComposeResult:
        prompt = Static(Content(self._prompt), id="asset-prompt", classes="picker-prompt")
        prompt.display = bool(self._prompt)
        field = Input(placeholder="type to filter: btc, eth/usdt, sol…", id="asset-filter")
        with Vertical(classes="picker picker-tall"):
            yield Label(Content(f"Asset on {self._exchange_title}"), classes="picker-title")
            yield prompt
            yield field
            yield Static("", id="asset-status", classes="picker-status")
            yield OptionList(id="asset-list", classes="picker-options")
            # the status line offers Ctrl+R itself, only when the list failed to load
            yield Static(key_hint(self.app, self.BINDINGS, leave_out={"retry"}), classes="picker-hint")
        yield Footer()

    def on_mount(self) -> None:
        if self._starred is None:
            settings = getattr(self.app, "settings", None)
            self._starred = set(getattr(settings, "favourites", ()))
        self._start_loading()

    def _start_loading(self) -> None:
        self.list_state = ListState.LOADING
        self._show_status(f"Loading the symbol list from {self._exchange_title}…")
        self.query_one("#asset-list", OptionList).display = False
        self._load()

    @work(exclusive=True, group="symbols", exit_on_error=False)
    async def _load(self) -> Sequence[Symbol]:
        return await self._load_symbols()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "symbols":
            return
        if event.state is WorkerState.SUCCESS:
            result = event.worker.result
            self._symbols = tuple(result or ())
            self._entries = order_assets(self._symbols, self._starred or ())
            self.list_state = ListState.READY
            self.query_one("#asset-list", OptionList).display = True
            self._apply_filter(self.query_one("#asset-filter", Input).value)
        elif event.state is WorkerState.ERROR:
            self.list_state = ListState.FAILED
            error = event.worker.error
            reason = str(error) or type(error).__name__
            self._show_status(
                f"Could not load the symbol list from {self._exchange_title}: {reason} "
                "Press Ctrl+R to retry, or type the symbol and press Enter.",
                error=True,
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return self.list_state is ListState.FAILED
        if action == "toggle_favourite":
            return self.list_state is ListState.READY
        return True

    def action_toggle_favourite(self) -> None:
        """Star or unstar the highlighted asset; the list re-sorts, the cursor stays on it."""
        options = self.query_one("#asset-list", OptionList)
        option = options.highlighted_option
        if self.list_state is not ListState.READY or option is None or not option.id:
            return
        starred = self._starred if self._starred is not None else set()
        symbol = option.id
        now_starred = symbol not in starred
        starred.symmetric_difference_update({symbol})
        self._starred = starred
        self._entries = order_assets(self._symbols, starred)
        self._apply_filter(self.query_one("#asset-filter", Input).value, keep=symbol)
        self.post_message(FavouriteToggled(symbol, now_starred))

    def _show_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#asset-status", Static)
        # The text quotes what the user typed and what the exchange replied: plain, never markup.
        status.update(Content(text))
        status.set_class(error, "-error")

    @on(Input.Changed, "#asset-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self.list_state is ListState.READY:
            self._apply_filter(event.value)

    def _apply_filter(self, query: str, *, keep: str | None = None) -> None:
        matches = filter_assets(self._entries, query)
        self._shown = matches[:MAX_SHOWN]
        options = self.query_one("#asset-list", OptionList)
        options.set_options(Option(_entry_prompt(entry), id=entry.symbol.name) for entry in self._shown)
        highlight = 0
        target = keep or (self._current if not query else None)
        if target:
            for index, entry in enumerate(self._shown):
                if entry.symbol.name == target:
                    highlight = index
                    break
        options.highlighted = highlight if self._shown else None
        total = len(self._entries)
        if not matches:
            self._show_status(f"No symbol on {self._exchange_title} matches {query!r}.", error=True)
        elif len(matches) > MAX_SHOWN:
            self._show_status(f"{len(matches)} of {total} symbols; showing the first {MAX_SHOWN}, keep typing.")
        else:
            self._show_status(f"{len(matches)} of {total} symbols"
                              + (" · ★ your favourites first (Ctrl+F stars)" if not query else ""))

    def action_move(self, step: int) -> None:
        options = self.query_one("#asset-list", OptionList)
        if not self._shown:
            return
        current = options.highlighted if options.highlighted is not None else 0
        options.highlighted = max(0, min(len(self._shown) - 1, current + step))

    @on(Input.Submitted, "#asset-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        self._choose_highlighted(event.value)

    @on(OptionList.OptionSelected, "#asset-list")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.dismiss(event.option.id)

    def _choose_highlighted(self, typed: str) -> None:
        if self.list_state is ListState.READY:
            option = self.query_one("#asset-list", OptionList).highlighted_option
            if option is not None and option.id:
                self.dismiss(option.id)
            return
        if self.list_state is ListState.FAILED and typed.strip():
            try:
                ref = parse_symbol(typed)
            except ValueError as error:
                self._show_status(str(error), error=True)
                return
            if ref.quote is None:
                # Without the list nothing says what `eth` means: ETHUSDT? ETHBTC? A bare
                # base is never a symbol on any exchange we speak, so ask for the pair.
                self._show_status(
                    f"{typed.strip()!r} names no quote currency, and the symbol list cannot be "
                    f"loaded to look it up: type the pair, e.g. {ref.name}USDT or {ref.name}/USDT.",
                    error=True,
                )
                return
            self.dismiss(ref.name)

    def action_choose(self) -> None:
        self._choose_highlighted(self.query_one("#asset-filter", Input).value)

    def action_retry(self) -> None:
        if self.list_state is ListState.FAILED:
            self._start_loading()

    def action_cancel(self) -> None:
        self.dismiss(None)


def _entry_prompt(entry: AssetEntry) -> Content:
    star = ("★ ", "$warning") if entry.starred else ("  ", "")
    return Content.assemble(star, (f"{entry.symbol.name:<14}", "bold"), (entry.pair, "$text-muted"))
