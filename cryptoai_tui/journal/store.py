"""The signal journal: one SQLite file in WAL mode, versioned schema, paged queries.

WAL lets the app, `signals` and `journal list` use one file at once: readers never block the
writer, and two writers take turns (each transaction waits up to `busy_timeout_ms` for the
other instead of failing with "database is locked"). A committed row survives the process
being killed (SIGKILL): SQLite's WAL is append-and-checksum, and an incomplete last
transaction is discarded on the next open, never half-applied.

Nothing here loads a whole table: every query takes a limit, and pages by row id (keyset
paging), so a Journal screen over 100k rows reads a page at a time.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from cryptoai_tui.journal.entry import (
    GRADE_HORIZONS,
    DeliveryRecord,
    JournalEntry,
    StoredEntry,
    StrategyVerdict,
)

#: Each migration takes the schema from version i to i + 1; the file records its version in
#: `PRAGMA user_version`, so an old journal is upgraded in place the first time it is opened.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE signals (
        id INTEGER PRIMARY KEY,
        exchange TEXT NOT NULL,
        symbol TEXT NOT NULL,
        interval TEXT NOT NULL,
        open_time INTEGER NOT NULL,
        close REAL NOT NULL,
        mode TEXT NOT NULL,
        action TEXT NOT NULL,
        confidence REAL NOT NULL,
        reason TEXT NOT NULL,
        triggered_by TEXT NOT NULL,
        confirmed_by TEXT NOT NULL,
        opposed_by TEXT NOT NULL,
        strategy_set TEXT NOT NULL,
        strategies TEXT NOT NULL,
        history INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        app_version TEXT NOT NULL,
        recorded_at INTEGER NOT NULL,
        return_1 REAL,
        return_5 REAL,
        return_20 REAL,
        UNIQUE (exchange, symbol, interval, open_time, mode, strategy_set)
    );
    CREATE INDEX signals_by_symbol ON signals (symbol, interval, open_time);
    CREATE INDEX signals_by_time ON signals (open_time);
    """,
    # 2: the alert delivery ledger (sent / retried / dropped, with the error), so the Alerts
    # screen shows what happened to every notification, across sessions
    """
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        target TEXT NOT NULL,
        rule_ids TEXT NOT NULL,
        state TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        alerts INTEGER NOT NULL,
        status INTEGER,
        error TEXT NOT NULL
    );
    CREATE INDEX deliveries_by_time ON deliveries (at_ms);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = (
    "id, exchange, symbol, interval, open_time, close, mode, action, confidence, reason, "
    "triggered_by, confirmed_by, opposed_by, strategies, history, session_id, app_version, "
    "recorded_at, return_1, return_5, return_20"
)


@dataclass(frozen=True, slots=True)
class Grade:
    """The return `horizon` candles after the signal on the candle opening at `open_time`."""

    exchange: str
    symbol: str
    interval: str
    open_time: int
    horizon: int
    value: float


class JournalError(Exception):
    """The journal file cannot be used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """Which rows a query returns; None means any."""

    symbol: str | None = None
    interval: str | None = None
    mode: str | None = None
    action: str | None = None
    since: int | None = None  # candle open time, ms UTC, inclusive
    live_only: bool = False
    #: symbols starting with this ("ETH": ETHUSDT, ETHBTC ...), as a range
    symbol_prefix: str | None = None

    def where(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (
            ("symbol", self.symbol), ("interval", self.interval),
            ("mode", self.mode), ("action", self.action),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.since is not None:
            clauses.append("open_time >= ?")
            params.append(self.since)
        if self.live_only:
            clauses.append("history = 0")
        if self.symbol_prefix:
            prefix = self.symbol_prefix
            # unary + keeps the planner on the row-id order (a page is the newest N matches),
            # instead of collecting the whole symbol range from its index and sorting it
            clauses.append("+symbol >= ? AND +symbol < ?")
            params.extend([prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)])
        return (" AND ".join(clauses) or "1"), params


@dataclass(frozen=True, slots=True)
class StatsRow:
    """How one strategy (or mode) did on one symbol/interval: hit rate and mean return."""

    group: str  # a strategy name (as a trigger) or a mode
    symbol: str
    interval: str
    signals: int
    graded: int  # signals with a +N return known
    hit_rate: float | None  # share of graded signals whose return went the signal's way
    mean_return: float | None  # mean signed return (SELL counts a fall as positive)


class JournalStore:
    """One connection to a journal file. Not shared between threads: the writer has its own."""

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 10_000) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=busy_timeout_ms / 1000, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"The journal {self.path} cannot use write-ahead logging ({mode}).")
            # NORMAL in WAL mode: a committed transaction survives a killed process; only a
            # power cut may lose the last ones. FULL would fsync every signal for no gain here.
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise JournalError(
                f"The journal {self.path} cannot be opened ({error}). Move it aside to start a new one, "
                "or pass --journal PATH to use another file."
            ) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> JournalStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"The journal {self.path} was written by a newer cryptoai-tui (schema {version}, this "
                f"version reads up to {SCHEMA_VERSION}). Upgrade cryptoai-tui or use another --journal."
            )
        for index in range(version, SCHEMA_VERSION):
            with self._transaction():
                self._apply(index)

    def _apply(self, index: int) -> None:
        for statement in MIGRATIONS[index].split(";"):
            if statement.strip():
                self._db.execute(statement)
        self._db.execute(f"PRAGMA user_version = {index + 1}")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # --- writing -----------------------------------------------------------------------------

    def add(self, entries: Sequence[JournalEntry], *, now_ms: int | None = None) -> int:
        """Store `entries` in one transaction; returns how many were new (repeats are ignored)."""
        recorded_at = int(time.time() * 1000) if now_ms is None else now_ms
        rows = [_row(entry, recorded_at) for entry in entries]
        with self._transaction():
            before = self._db.total_changes
            self._db.executemany(
                "INSERT OR IGNORE INTO signals (exchange, symbol, interval, open_time, close, mode, "
                "action, confidence, reason, triggered_by, confirmed_by, opposed_by, strategy_set, "
                "strategies, history, session_id, app_version, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return self._db.total_changes - before

    def grade(self, grades: Sequence[Grade]) -> None:
        """Store returns since signals' closes. A return depends only on the stream's prices, so
        one grade fills every entry on that candle (whatever its mode or strategies)."""
        with self._transaction():
            for grade in grades:
                if grade.horizon not in GRADE_HORIZONS:
                    raise ValueError(f"The journal grades at {GRADE_HORIZONS} candles, not {grade.horizon}.")
                self._db.execute(
                    f"UPDATE signals SET return_{grade.horizon} = ? WHERE exchange = ? AND symbol = ? "
                    f"AND interval = ? AND open_time = ? AND return_{grade.horizon} IS NULL",
                    (grade.value, grade.exchange, grade.symbol, grade.interval, grade.open_time),
                )

    def record_deliveries(self, records: Sequence[DeliveryRecord]) -> None:
        """Append ledger lines (targets arrive masked; the error is masked again here, so a
        token a service echoed back in its error never reaches the file)."""
        from cryptoai_tui.exchanges.redact import mask_secrets

        with self._transaction():
            self._db.executemany(
                "INSERT INTO deliveries (at_ms, target, rule_ids, state, attempt, alerts, status, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.at_ms, mask_secrets(r.target), json.dumps(list(r.rule_ids)), r.state, r.attempt,
                  r.alerts, r.status, mask_secrets(r.error)) for r in records],
            )

    def deliveries(self, *, before_id: int | None = None, limit: int = 100) -> list[tuple[int, DeliveryRecord]]:
        """Up to `limit` ledger lines, newest first, older than `before_id` (keyset paging)."""
        clause, params = ("id < ?", [before_id]) if before_id is not None else ("1", [])
        cursor = self._db.execute(
            "SELECT id, at_ms, target, rule_ids, state, attempt, alerts, status, error FROM deliveries "
            f"WHERE {clause} ORDER BY id DESC LIMIT ?", [*params, limit],
        )
        return [
            (int(r[0]), DeliveryRecord(int(r[1]), str(r[2]), tuple(json.loads(str(r[3]))), str(r[4]),
                                       int(r[5]), int(r[6]), None if r[7] is None else int(r[7]), str(r[8])))
            for r in cursor
        ]

    # --- reading -----------------------------------------------------------------------------

    def count(self, where: JournalFilter = JournalFilter()) -> int:
        clause, params = where.where()
        return int(self._db.execute(f"SELECT COUNT(*) FROM signals WHERE {clause}", params).fetchone()[0])

    def page(
        self, where: JournalFilter = JournalFilter(), *, before_id: int | None = None, limit: int = 100
    ) -> list[StoredEntry]:
        """Up to `limit` rows, newest first, older than `before_id` (keyset paging: O(limit))."""
        clause, params = where.where()
        if before_id is not None:
            clause += " AND id < ?"
            params.append(before_id)
        cursor = self._db.execute(
            f"SELECT {_COLUMNS} FROM signals WHERE {clause} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
        return [_stored(row) for row in cursor]

    def iter_all(self, where: JournalFilter = JournalFilter(), *, batch: int = 1000) -> Iterator[StoredEntry]:
        """Every matching row, oldest first, read `batch` rows at a time (for export)."""
        clause, params = where.where()
        after = 0
        while True:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM signals WHERE {clause} AND id > ? ORDER BY id LIMIT ?",
                [*params, after, batch],
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _stored(row)
            after = rows[-1][0]

    def get(self, row_id: int) -> StoredEntry | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM signals WHERE id = ?", (row_id,)).fetchone()
        return None if row is None else _stored(row)

    def ungraded(self, exchange: str, symbol: str, interval: str) -> list[tuple[int, float]]:
        """(open_time, close) of this stream's candles with a signal still waiting for a grade,
        oldest first: what a recorder picks up again after a restart."""
        cursor = self._db.execute(
            "SELECT open_time, close FROM signals WHERE exchange = ? AND symbol = ? AND interval = ? "
            "AND return_20 IS NULL GROUP BY open_time ORDER BY open_time",
            (exchange, symbol, interval),
        )
        return [(int(r[0]), float(r[1])) for r in cursor]

    def stats(self, where: JournalFilter = JournalFilter(), *, horizon: int = 5) -> list[StatsRow]:
        """Hit rate and mean return at `horizon` candles, by triggering strategy and by mode,
        per symbol/interval, best mean return first."""
        if horizon not in GRADE_HORIZONS:
            raise ValueError(f"The journal grades at {GRADE_HORIZONS} candles, not {horizon}.")
        clause, params = where.where()
        signed = f"CASE action WHEN 'SELL' THEN -return_{horizon} ELSE return_{horizon} END"
        by_mode = self._db.execute(
            f"SELECT 'mode ' || mode, symbol, interval, COUNT(*), COUNT(return_{horizon}), "
            f"AVG(CASE WHEN return_{horizon} IS NULL THEN NULL WHEN {signed} > 0 THEN 1.0 ELSE 0.0 END), "
            f"AVG({signed}) FROM signals WHERE {clause} GROUP BY mode, symbol, interval",
            params,
        ).fetchall()
        by_trigger = self._db.execute(
            f"SELECT trigger.value, symbol, interval, COUNT(*), COUNT(return_{horizon}), "
            f"AVG(CASE WHEN return_{horizon} IS NULL THEN NULL WHEN {signed} > 0 THEN 1.0 ELSE 0.0 END), "
            f"AVG({signed}) FROM signals, json_each(signals.triggered_by) AS trigger "
            f"WHERE {clause} GROUP BY trigger.value, symbol, interval",
            params,
        ).fetchall()
        rows = [StatsRow(*row) for row in (*by_trigger, *by_mode)]
        return sorted(rows, key=lambda r: (r.mean_return is None, -(r.mean_return or 0.0), r.group))

    def integrity_ok(self) -> bool:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT: take the write lock up front, so a second writer waits for
    it (busy_timeout) at the start instead of failing half-way with "database is locked"."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _row(entry: JournalEntry, recorded_at: int) -> tuple[object, ...]:
    return (
        entry.exchange, entry.symbol, entry.interval, entry.open_time, entry.close, entry.mode,
        entry.action, entry.confidence, entry.reason,
        json.dumps(list(entry.triggered_by)), json.dumps(list(entry.confirmed_by)),
        json.dumps(list(entry.opposed_by)), entry.strategy_set,
        json.dumps({name: verdict.to_json() for name, verdict in entry.strategies.items()}, allow_nan=False),
        int(entry.history), entry.session_id, entry.app_version, recorded_at,
    )


def _stored(row: Sequence[object]) -> StoredEntry:
    strategies = {
        name: StrategyVerdict(v["trigger"], v["stance"], v["confidence"], v["values"])
        for name, v in json.loads(str(row[13])).items()
    }
    entry = JournalEntry(
        exchange=str(row[1]), symbol=str(row[2]), interval=str(row[3]), open_time=int(row[4]),  # type: ignore[call-overload]
        close=float(row[5]), mode=str(row[6]), action=str(row[7]), confidence=float(row[8]),  # type: ignore[arg-type]
        reason=str(row[9]), triggered_by=tuple(json.loads(str(row[10]))),
        confirmed_by=tuple(json.loads(str(row[11]))), opposed_by=tuple(json.loads(str(row[12]))),
        strategies=strategies, history=bool(row[14]), session_id=str(row[15]), app_version=str(row[16]),
    )
    returns = {1: row[18], 5: row[19], 20: row[20]}
    return StoredEntry(int(row[0]), entry, int(row[17]), returns)  # type: ignore[arg-type,call-overload]
