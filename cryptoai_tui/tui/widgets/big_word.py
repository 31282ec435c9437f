"""Three-row letters for the confluence verdict, in the style of Textual's `Digits`.

`Digits` draws numbers only; the verdict is a word (BUY, SELL, HOLD, WARMUP, ERROR) that
must be readable from across the room, so it gets its own small font.
"""

from __future__ import annotations

_FONT: dict[str, tuple[str, str, str]] = {
    "A": ("┏━┓", "┣━┫", "╹ ╹"),
    "B": ("┳━┓", "┣━┫", "┻━┛"),
    "C": ("┏━╸", "┃  ", "┗━╸"),
    "D": ("┳━┓", "┃ ┃", "┻━┛"),
    "E": ("┏━╸", "┣━ ", "┗━╸"),
    "G": ("┏━╸", "┃╺┓", "┗━┛"),
    "H": ("╻ ╻", "┣━┫", "╹ ╹"),
    "I": ("╺┳╸", " ┃ ", "╺┻╸"),
    "L": ("╻  ", "┃  ", "┗━╸"),
    "M": ("┏┳┓", "┃┃┃", "╹ ╹"),
    "N": ("┏┓╻", "┃┗┫", "╹ ╹"),
    "O": ("┏━┓", "┃ ┃", "┗━┛"),
    "P": ("┏━┓", "┣━┛", "╹  "),
    "R": ("┏━┓", "┣┳┛", "╹┗╸"),
    "S": ("┏━╸", "┗━┓", "╺━┛"),
    "T": ("╺┳╸", " ┃ ", " ╹ "),
    "U": ("╻ ╻", "┃ ┃", "┗━┛"),
    "W": ("╻ ╻", "┃┃┃", "┗┻┛"),
    "Y": ("╻ ╻", "┗┳┛", " ╹ "),
    " ": ("   ", "   ", "   "),
    "-": ("   ", "╺━╸", "   "),
}


def big_word(word: str) -> tuple[str, str, str]:
    """The three rows of `word`; letters the font lacks are drawn as their plain character."""
    rows: list[list[str]] = [[], [], []]
    for character in word.upper():
        glyph = _FONT.get(character, (" ", character, " "))
        for row, piece in zip(rows, glyph):
            row.append(piece)
    top, middle, bottom = (" ".join(row) for row in rows)
    return top, middle, bottom
