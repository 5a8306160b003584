"""Ingest a landing folder: find new files in "later" order, run their loader, and persist the
result with its lineage, exact-repeat skipping and per-file accounting.

Each file is all-or-nothing: its raw rows, rejects and ingest.files row appear together or not
at all. Files are written in batches of consecutive files, one transaction per batch (see
_Committer), so a reader sees new files a batch at a time. A file path already in ingest.files with the same sha256 is left alone, and a file whose
bytes were already delivered under another name is recorded as `duplicate_file` only, so
re-running on an unchanged landing folder changes nothing.
"""
from __future__ import annotations

import hashlib
import os
import queue
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

from ingest import accounting, erp, finance, history, oms, payments, reference, wms
from ingest.common import FileLoad, MalformedFile, drop_temp_objects, ensure_raw_table, quote_ident
from ingest.settings import SOURCES

Loader = Callable[..., FileLoad]  # (con, path, into=None): see ingest.common.FileLoad and Outputs

LOADERS: dict[str, Loader] = {
    "oms/orders": oms.load_orders,
    "oms/order_events": oms.load_order_events,
    "payments/gateway": payments.load_gateway_transactions,
    "payments/bank": payments.load_bank_statement_lines,
    "payments/payouts": payments.load_payouts,
    "wms/shipments": wms.load_shipments,
    "wms/tracking": wms.load_tracking_events,
    "erp/invoices": erp.load_invoices,
    "reference/fx_rates": reference.load_fx_rates,
    "finance/resolutions": finance.load_resolutions,
}

# source -> raw table -> delivered columns (parent table first).
RAW_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    **oms.RAW_TABLES, **payments.RAW_TABLES, **wms.RAW_TABLES, **erp.RAW_TABLES, **reference.RAW_TABLES,
    **finance.RAW_TABLES,
}

# Files parsed at once: DuckDB runs most of one file's SQL on a single thread (a file is about
# one row group), so two files in flight use two cores; more would mostly add memory.
DEFAULT_WORKERS = min(2, os.cpu_count() or 1)
UNDATED_SOURCES = {"reference/fx_rates"}  # files directly in the source folder, no export date
_DATE_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class FileSummary:
    """What happened to one file in this run. status: loaded, malformed_file, duplicate_file,
    or unchanged (already ingested earlier with the same bytes: nothing done)."""

    file_path: str
    status: str
    records_read: int = 0
    records_loaded: int = 0
    records_quarantined: int = 0
    repeats_skipped: int = 0
    detail: str | None = None


@dataclass
class SourceSummary:
    """Per-file results and totals of one source's ingest run (totals cover this run's new files)."""

    source: str
    files: list[FileSummary] = field(default_factory=list)

    def _total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files if f.status != "unchanged")

    @property
    def records_read(self) -> int:
        return self._total("records_read")

    @property
    def records_loaded(self) -> int:
        return self._total("records_loaded")

    @property
    def records_quarantined(self) -> int:
        return self._total("records_quarantined")

    @property
    def repeats_skipped(self) -> int:
        return self._total("repeats_skipped")

    def files_with_status(self, status: str) -> list[FileSummary]:
        return [f for f in self.files if f.status == status]

    @property
    def malformed_files(self) -> list[str]:
        """'<path>: <why>' of every file of this run recorded as malformed_file, or changed in place."""
        return [f"{f.file_path}: {f.detail}" for f in self.files if f.status in ("malformed_file", "changed")]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_export_date(name: str) -> bool:
    if not _DATE_FOLDER.match(name):
        return False
    try:
        date.fromisoformat(name)
    except ValueError:
        return False
    return True


def unread_files(landing_dir: Path | str) -> list[str]:
    """Files under the landing folder that no loader reads, relative paths sorted: a misspelled
    source folder (`payment/gateway/...`), a folder that is not a calendar date, a file outside
    its date folder or in a sub-folder of it, a hidden file. Top-level entries starting with `_`
    or `.` (the simulator's `_ground_truth/`, tool folders) are not deliveries and are skipped."""
    root = Path(landing_dir)
    if not root.is_dir():
        return []
    read = {path.resolve() for source in SOURCES for path, _ in list_source_files(root, source)}
    found = []
    for top in sorted(root.iterdir()):
        if top.name.startswith(("_", ".")):
            continue
        candidates = [top] if top.is_file() else (p for p in top.rglob("*") if p.is_file())
        found += [p.relative_to(root).as_posix() for p in candidates if p.resolve() not in read]
    return sorted(found)


def list_source_files(landing_dir: Path, source: str, export_dates: list[str] | None = None) -> list[tuple[Path, date | None]]:
    """Files of a source in "later" order: export date folder, then file name (byte order).

    Hidden files (dot-files) are ignored; every other regular file is a delivery.
    """
    folder = Path(landing_dir) / source
    if not folder.is_dir():
        return []

    def files_in(directory: Path) -> list[Path]:
        files = [p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")]
        # Python compares str by code point, which is UTF-8 byte order.
        return sorted(files, key=lambda p: p.name)

    if source in UNDATED_SOURCES:
        return [(p, None) for p in files_in(folder)]
    wanted = set(export_dates) if export_dates is not None else None
    result: list[tuple[Path, date | None]] = []
    for day in sorted(p.name for p in folder.iterdir() if p.is_dir() and is_export_date(p.name)):
        if wanted is None or day in wanted:
            result += [(p, date.fromisoformat(day)) for p in files_in(folder / day)]
    return result


def ensure_tables(con: duckdb.DuckDBPyConnection, sources: tuple[str, ...] | list[str] = SOURCES) -> None:
    """Create the ingest tables and the raw tables of these sources (empty ones too, for dbt)."""
    accounting.ensure_ingest_schema(con)
    history.ensure_history_tables(con)
    for source in sources:
        for table, columns in RAW_TABLES[source].items():
            ensure_raw_table(con, table, columns)


def _find_repeats(con: duckdb.DuckDBPyConnection, source: str, batch: list) -> dict[int, int]:
    """Find the exact repeats among the records of a batch's staged files; -> skipped records
    per batch position. They go to temp table `_ingest_repeats(file_position, _record_no)`.

    Skipped: a later copy of a text within the batch (earlier files and earlier records win),
    or a text already loaded for this source (earlier batches included). One scan of the raw
    table per batch, not per file: that scan grows with the table, so per file it made the
    writer's work grow with the square of the source's size.
    """
    parent_table = next(iter(RAW_TABLES[source]))
    candidates = [
        f"SELECT {position} AS file_position, _record_no, _record_hash FROM {next(iter(staged.tables.values()))}"
        for position, (_, staged, _) in enumerate(batch) if isinstance(staged, _Staged)
    ] or ["SELECT NULL::INTEGER AS file_position, NULL::INTEGER AS _record_no, NULL::UHUGEINT AS _record_hash WHERE false"]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ingest_repeats AS
            WITH candidates AS (
                -- one sortable key for (batch position, record number): the first copy wins
                SELECT *, file_position::BIGINT * 4294967296 + _record_no AS row_key
                FROM ({" UNION ALL ".join(candidates)})
            ), firsts AS (
                SELECT _record_hash, min(row_key) AS first_row_key FROM candidates GROUP BY _record_hash
            ), loaded_before AS (
                -- the batch's distinct texts are the join's build side; the raw table is only scanned
                SELECT DISTINCT r._record_hash FROM raw.{parent_table} AS r
                JOIN firsts AS f ON r._record_hash = f._record_hash
            )
            SELECT c.file_position, c._record_no FROM candidates AS c JOIN firsts AS f USING (_record_hash)
            WHERE c.row_key <> f.first_row_key
               OR c._record_hash IN (SELECT _record_hash FROM loaded_before)"""
    )
    return dict(con.execute("SELECT file_position, count(*) FROM _ingest_repeats GROUP BY file_position").fetchall())


def _persist(con: duckdb.DuckDBPyConnection, source: str, staged: "_Staged", lineage: list,
             file_position: int, skipped: int) -> tuple[int, int]:
    """Insert the rows of the records that are not exact repeats (see _find_repeats, which
    found `skipped` of them at this batch position); -> (loaded, skipped).

    Every staged table already holds each row's `_record_hash` (children: their parent's), so
    this, the one step that runs file after file, only appends.
    """
    for table, rows in staged.tables.items():
        columns = ", ".join(f"t.{quote_ident(c)}" for c in RAW_TABLES[source][table])
        without_repeats = (
            f"{rows} AS t ANTI JOIN (SELECT _record_no FROM _ingest_repeats WHERE file_position = {file_position}) "
            "AS s ON t._record_no = s._record_no" if skipped else f"{rows} AS t"
        )
        con.execute(
            f"""INSERT INTO raw.{table}
                SELECT {columns}, ?, ?, ?, ?::DATE, t._record_no, ?, t._record_hash, ?::TIMESTAMP
                FROM {without_repeats}""",
            lineage,
        )
    return staged.valid - skipped, skipped


def _malformed_text(path: Path, source: str) -> str:
    """The head of an unreadable file, decoded as well as it goes, for its reject row."""
    with path.open("rb") as handle:
        head = handle.read(accounting.MALFORMED_FILE_TEXT_CHARS * 4)
    encoding = "gbk" if source == "payments/bank" else "utf-8"
    return head.decode(encoding, errors="replace")[: accounting.MALFORMED_FILE_TEXT_CHARS]


@dataclass
class _Delivery:
    """One file of this run, in "later" order, and where it is at."""

    index: int
    path: Path
    export_date: date | None
    file_path: str
    sha256: str = ""
    size: int = 0


@dataclass
class _Staged:
    """A loaded file handed from its worker to the committer: the loader made its outputs as
    tables of the run's in-memory scratch database (temp tables are private to a cursor), so
    the committer reads them where they are."""

    records_read: int
    valid: int  # rows of the parent relation (records that passed validation)
    tables: dict[str, str]  # raw table -> relation over the outputs (parent first, with _record_hash)
    rejects: str
    outputs: list[str]  # the scratch tables, dropped once written


def _load(cursor: duckdb.DuckDBPyConnection, source: str, scratch: str, delivery: _Delivery) -> _Staged:
    """Run the source's loader with its outputs in the scratch database, named after the file."""
    load = LOADERS[source](cursor, delivery.path, into=f"{scratch}.f{delivery.index}")
    drop_temp_objects(cursor, load.temp_tables)
    parent_rows = next(iter(load.tables.values()))
    valid = cursor.execute(f"SELECT count(*) FROM {parent_rows}").fetchone()[0]
    return _Staged(load.records_read, valid, load.tables, load.rejects, load.outputs)


class _InOrder:
    """Files are loaded concurrently but handed to the committer strictly in "later" order, so
    exact repeats and re-delivered files are judged against everything before them. A worker
    that finishes a file early leaves it here and goes on with the next one (instead of idling
    until its turn); whoever completes the next file in order hands over every file that is
    then ready. Workers run at most LOOKAHEAD files ahead of the next file to hand over, which
    bounds the staged data held in memory. When a file fails, the files before it are still
    handed over and the files after it stop."""

    LOOKAHEAD = 6

    def __init__(self, hand_over: Callable[..., None]) -> None:
        self._hand_over = hand_over
        self._next = 0
        self._ready: dict[int, tuple | None] = {}
        self._failed_at: int | None = None
        self._condition = threading.Condition()

    def _stopped(self, index: int) -> bool:
        return self._failed_at is not None and index > self._failed_at

    def wait_to_start(self, index: int) -> None:
        with self._condition:
            self._condition.wait_for(lambda: index - self._next < self.LOOKAHEAD or self._stopped(index))
            if self._stopped(index):
                raise _Aborted()

    def finish(self, index: int, item: tuple | None) -> None:
        """File `index` is loaded: hand it over (`item`: the committer's arguments, None for
        nothing to write) with every file after it that is ready, once those before it are."""
        with self._condition:
            if self._stopped(index):
                raise _Aborted()
            self._ready[index] = item
            try:
                while self._next in self._ready and not self._stopped(self._next):
                    ready = self._ready.pop(self._next)
                    if ready is not None:
                        self._hand_over(*ready)  # may wait for the writer; raises its failure
                    self._next += 1
            except BaseException:
                self._failed_at = self._next if self._failed_at is None else min(self._failed_at, self._next)
                raise
            finally:
                self._condition.notify_all()

    def fail(self, index: int) -> None:
        with self._condition:
            self._failed_at = index if self._failed_at is None else min(self._failed_at, index)
            self._condition.notify_all()


class _FirstCopies:
    """Which new files of this run repeat the bytes (sha256) of an earlier new file of this run,
    so a worker does not load a re-delivered copy: the committer, which sees the original first,
    records the copy as a duplicate_file without its rows. Workers take files in order and hash
    each first, so waiting for the earlier files' hashes is short."""

    def __init__(self, count: int) -> None:
        self._sha256s: list[str | None] = [None] * count
        self._hashed = [False] * count
        self._all_hashed_before = 0  # every file before this index is hashed
        self._condition = threading.Condition()

    def hashed(self, index: int, sha256: str | None) -> None:
        """File `index` is hashed (sha256: of a new delivery; None: not one, or it failed)."""
        with self._condition:
            self._sha256s[index], self._hashed[index] = sha256, True
            while self._all_hashed_before < len(self._hashed) and self._hashed[self._all_hashed_before]:
                self._all_hashed_before += 1
            self._condition.notify_all()

    def has_earlier_copy(self, index: int) -> bool:
        with self._condition:
            self._condition.wait_for(lambda: self._all_hashed_before >= index)
            return self._sha256s[index] in self._sha256s[:index]


class _Aborted(Exception):
    """Another file of the run failed; this one stops without writing."""


def _drop_all_temp_objects(cursor: duckdb.DuckDBPyConnection) -> None:
    """Free a worker cursor's temp tables and views (it only ever holds a loader's)."""
    names = [row[0] for row in cursor.execute(
        "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal UNION ALL "
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND NOT internal").fetchall()]
    drop_temp_objects(cursor, names)


def _write_file(cursor: duckdb.DuckDBPyConnection, source: str, delivery: _Delivery,
                staged: _Staged | MalformedFile | None, summary: FileSummary,
                originals: dict[str, tuple[str, int]], file_position: int, repeats: int) -> None:
    """Write one loaded (or unreadable) file inside the caller's transaction: raw rows minus
    exact repeats (`repeats` of them, found for its batch position by _find_repeats), rejects,
    and its ingest.files row; fill in its summary. `originals` maps the sha256 of every file of
    the source written so far (not a duplicate) to the first such file's (path, records_read),
    as accounting.first_file_with_sha256 would find it; it is updated."""
    system = source.split("/")[0]
    file_path, sha256, export_date = delivery.file_path, delivery.sha256, delivery.export_date
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    record = dict(file_path=file_path, system=system, source=source, export_date=export_date,
                  file_sha256=sha256, loaded_at=now)
    original = originals.get(sha256)
    if original is not None:
        original_path, original_read = original
        accounting.record_file(cursor, accounting.FileRecord(
            **record, records_read=original_read, records_loaded=0, records_quarantined=0,
            repeats_skipped=original_read, status="duplicate_file", duplicate_of=original_path))
        summary.__init__(file_path, "duplicate_file", original_read, 0, 0, original_read,
                         detail=f"same bytes as {original_path}")
        return
    if isinstance(staged, MalformedFile):
        # Nothing of an unreadable file is kept but its one reject row and its accounting.
        accounting.write_malformed_file(cursor, system=system, source=source, file_path=file_path,
                                        file_sha256=sha256, export_date=export_date,
                                        raw_text=_malformed_text(delivery.path, source), rejected_at=now)
        accounting.record_file(cursor, accounting.FileRecord(
            **record, records_read=1, records_loaded=0, records_quarantined=1, repeats_skipped=0,
            status="malformed_file", duplicate_of=None))
        originals[sha256] = (file_path, 1)
        summary.__init__(file_path, "malformed_file", 1, 0, 1, 0, detail=str(staged))
        return
    if staged is None:  # bytes delivered in an earlier run, yet no earlier file has them: cannot be
        raise AssertionError(f"{file_path}: not loaded and not a duplicate")
    lineage = [system, source, file_path, export_date, sha256, now]
    loaded, skipped = _persist(cursor, source, staged, lineage, file_position, repeats)
    quarantined = accounting.write_rejects(cursor, staged.rejects, system=system, source=source,
                                           file_path=file_path, file_sha256=sha256,
                                           export_date=export_date, rejected_at=now)
    if loaded + skipped + quarantined != staged.records_read:  # a loader bug, never bad data
        raise AssertionError(f"{file_path}: read {staged.records_read} != loaded {loaded} + "
                             f"quarantined {quarantined} + skipped {skipped}")
    accounting.record_file(cursor, accounting.FileRecord(
        **record, records_read=staged.records_read, records_loaded=loaded,
        records_quarantined=quarantined, repeats_skipped=skipped, status="loaded", duplicate_of=None))
    originals[sha256] = (file_path, staged.records_read)
    summary.__init__(file_path, "loaded", staged.records_read, loaded, quarantined, skipped)


# Files are written in batches: one transaction per batch of consecutive files (in "later"
# order) instead of one per file. Every file is still all-or-nothing (a batch is), and a file
# failing while its batch is written rolls the batch back and commits the files before it
# again, so "files before a failure commit, files after it stop" holds as before. Fewer, larger
# commits skip the WAL (DuckDB writes big transactions straight to the database file) and pay
# the per-commit cost once per batch. The batch size bounds the staged data held in memory.
BATCH_BYTES = 256 << 20


class _Committer:
    """Writes staged files in order, a batch per transaction, on its own cursor and thread.

    Files arrive in "later" order (see _InOrder); workers go on loading the next ones while a batch is
    written (both cores stay busy). At most QUEUED_BATCHES batches filled by workers wait to be
    written, which bounds the staged data held in memory; the last batch, handed over once
    every file is loaded, never waits (its files are in memory already, and the next source
    goes on meanwhile). After a failed batch nothing later is written, and
    the failure is raised to the next worker that hands over a file, and by finish().
    """

    QUEUED_BATCHES = 1

    def __init__(self, con: duckdb.DuckDBPyConnection, source: str, scratch: str) -> None:
        self.cursor = con.cursor()
        self.source = source
        self.scratch = scratch
        self.pending: list[tuple[_Delivery, _Staged | MalformedFile | None, FileSummary]] = []
        self.pending_bytes = 0
        self.failed_at = 0
        self.originals: dict[str, tuple[str, int]] | None = None  # see _write_file; None: re-read
        self.error: BaseException | None = None
        # Unbounded: the bound on waiting batches is kept by _free_slots, so that the last batch
        # can be handed over without waiting (its files are in memory either way).
        self._batches: queue.Queue = queue.Queue()
        self._free_slots = threading.Semaphore(self.QUEUED_BATCHES)
        self._thread = threading.Thread(target=self._run, name=f"ingest-writer {source}", daemon=True)
        self._thread.start()

    def _read_originals(self) -> dict[str, tuple[str, int]]:
        originals: dict[str, tuple[str, int]] = {}
        for sha256, file_path, records_read in self.cursor.execute(
                """SELECT file_sha256, file_path, records_read FROM ingest.files
                   WHERE source = ? AND status <> 'duplicate_file' ORDER BY loaded_at, file_path""",
                [self.source]).fetchall():
            originals.setdefault(sha256, (file_path, records_read))
        return originals

    def add(self, delivery: _Delivery, staged: _Staged | MalformedFile | None, summary: FileSummary) -> None:
        """Queue a file (in "later" order); raises the writer's failure, if any."""
        if self.error is not None:
            raise self.error
        self.pending.append((delivery, staged, summary))
        self.pending_bytes += delivery.size
        if self.pending_bytes >= BATCH_BYTES:
            self._hand_over()

    def _hand_over(self, wait: bool = True) -> None:
        """Queue the pending files as a batch; `wait`: first wait until fewer than
        QUEUED_BATCHES batches wait to be written (workers must not run further ahead)."""
        batch, self.pending, self.pending_bytes = self.pending, [], 0
        if batch:
            if wait:
                self._free_slots.acquire()
            self._batches.put((batch, wait))

    def hand_over_the_rest(self) -> None:
        """Every file is added: queue what is pending at once, so the writer starts on it
        while the caller goes on (with the next source)."""
        self._hand_over(wait=False)

    def _write(self, batch: list) -> int:
        """Write files in one transaction; on failure roll back and return how many files came
        before the failing one (len(batch) when COMMIT itself failed), re-raising from flush."""
        self.cursor.execute("BEGIN TRANSACTION")
        position = 0
        try:
            if self.originals is None:
                self.originals = self._read_originals()
            repeats = _find_repeats(self.cursor, self.source, batch)
            for position, (delivery, staged, summary) in enumerate(batch):
                _write_file(self.cursor, self.source, delivery, staged, summary, self.originals,
                            position, repeats.get(position, 0))
            position = len(batch)
            self.cursor.execute("DROP TABLE _ingest_repeats")
            self.cursor.execute("COMMIT")
        except BaseException as exc:
            self.cursor.execute("ROLLBACK")
            self.originals = None  # it may hold files of the rolled-back batch
            exc.add_note(f"while writing {batch[min(position, len(batch) - 1)][0].file_path}")
            self.failed_at = position
            raise
        return len(batch)

    def _flush(self, batch: list) -> None:
        try:
            if self.error is not None:
                return  # nothing after a failure is written
            try:
                self._write(batch)
            except BaseException as exc:
                # The files before the failing one still commit (as they would one at a time).
                if 0 < self.failed_at < len(batch):
                    try:
                        self._write(batch[:self.failed_at])
                    except BaseException:  # noqa: BLE001 - the first failure is the one reported
                        pass
                self.error = exc
        finally:
            for _, staged, _ in batch:
                if isinstance(staged, _Staged):
                    for name in staged.outputs:
                        self.cursor.execute(f"DROP TABLE IF EXISTS {name}")

    def _run(self) -> None:
        while True:
            item = self._batches.get()
            if item is None:
                return
            batch, took_a_slot = item
            if took_a_slot:
                self._free_slots.release()
            self._flush(batch)

    def finish(self) -> None:
        """Write what is still pending, wait for the writer, and raise its failure, if any."""
        self.hand_over_the_rest()
        self._batches.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        if self._thread.is_alive():  # a worker failed before finish(): stop the writer cleanly
            self.pending = []
            self._batches.put(None)
            self._thread.join()
        self.cursor.close()


def _ingest_delivery(cursor: duckdb.DuckDBPyConnection, source: str, delivery: _Delivery,
                     known: dict[str, str], delivered_before: set[str], first_copies: _FirstCopies,
                     in_order: _InOrder, scratch: str) -> FileSummary:
    """One file, on a worker cursor: hash it, load and stage it (concurrently), then leave it
    to be handed to the committer in order."""
    try:
        known_sha = known.get(delivery.file_path)
        try:
            in_order.wait_to_start(delivery.index)
            delivery.sha256 = sha256_of(delivery.path)
            delivery.size = delivery.path.stat().st_size
        finally:  # even when this file fails, so that no later file waits for its hash
            first_copies.hashed(delivery.index, (delivery.sha256 or None) if known_sha is None else None)
        staged: _Staged | MalformedFile | None = None
        if (known_sha is None and delivery.sha256 not in delivered_before
                and not first_copies.has_earlier_copy(delivery.index)):
            try:
                staged = _load(cursor, source, scratch, delivery)
            except MalformedFile as exc:
                staged = exc
                _drop_all_temp_objects(cursor)
            except BaseException:
                _drop_all_temp_objects(cursor)
                raise
        if known_sha == delivery.sha256:
            summary = FileSummary(delivery.file_path, "unchanged")
            in_order.finish(delivery.index, None)
        elif known_sha is not None:
            # Landing files are immutable; a file rewritten in place is a delivery error, not data.
            summary = FileSummary(delivery.file_path, "changed",
                                  detail="file changed since it was ingested; not reloaded")
            in_order.finish(delivery.index, None)
        else:
            # staged is None for bytes delivered before (in an earlier run, or earlier in this
            # one): the committer records the duplicate.
            summary = FileSummary(delivery.file_path, "pending")
            in_order.finish(delivery.index, (delivery, staged, summary))
        return summary
    except _Aborted:
        raise
    except BaseException:
        in_order.fail(delivery.index)
        raise


class _SourceRun:
    """One source's files in one run, in two phases: load() loads every file (up to `workers`
    at once, each on its own cursor) and hands them to the committer in "later" order; finish()
    waits for the committer to write what is left and frees everything. Between the two the
    next source can already load (see ingest_all)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, landing_dir: Path, source: str,
                 files: list[tuple[Path, date | None]], workers: int, progress: bool) -> None:
        self.con, self.source, self.progress = con, source, progress
        self.deliveries = [_Delivery(i, path, export_date, path.relative_to(landing_dir).as_posix())
                           for i, (path, export_date) in enumerate(files)]
        self.workers = max(1, min(workers, len(self.deliveries)))
        self.summaries: list[FileSummary] = []
        self.error: BaseException | None = None
        self.committer: _Committer | None = None
        self.scratch: str | None = None

    def load(self) -> None:
        """Load every file and hand it over in order; a failure is kept for finish() to raise."""
        try:
            self._load()
        except BaseException as exc:  # noqa: BLE001 - raised by finish()
            self.error = self.error or exc

    def _load(self) -> None:
        if not self.deliveries:
            return
        con, source = self.con, self.source
        known = dict(con.execute("SELECT file_path, file_sha256 FROM ingest.files WHERE source = ?", [source]).fetchall())
        delivered_before = {row[0] for row in con.execute(
            "SELECT DISTINCT file_sha256 FROM ingest.files WHERE source = ? AND status <> 'duplicate_file'",
            [source]).fetchall()}
        # An in-memory database shared by the run's cursors (no WAL, never on disk) for staged files.
        self.scratch = f"_ingest_scratch_{uuid.uuid4().hex}"
        con.execute(f"ATTACH ':memory:' AS {self.scratch}")
        cursors: queue.Queue = queue.Queue()
        opened = [con.cursor() for _ in range(self.workers)]
        for cursor in opened:
            cursors.put(cursor)
        self.committer = _Committer(con, source, self.scratch)
        in_order = _InOrder(self.committer.add)
        first_copies = _FirstCopies(len(self.deliveries))

        def job(delivery: _Delivery) -> FileSummary:
            cursor = cursors.get()
            try:
                return _ingest_delivery(cursor, source, delivery, known, delivered_before, first_copies,
                                        in_order, self.scratch)
            finally:
                cursors.put(cursor)

        bar = None
        if self.progress:
            from tqdm import tqdm
            bar = tqdm(total=len(self.deliveries), desc=source, unit="file")
        try:
            with ThreadPoolExecutor(max_workers=len(opened)) as pool:
                futures = [pool.submit(job, delivery) for delivery in self.deliveries]
                for future in futures:
                    try:
                        self.summaries.append(future.result())
                    except _Aborted:
                        pass
                    except BaseException as exc:  # noqa: BLE001 - raised by finish(), after the pool stops
                        self.error = self.error or exc
                    if bar is not None:
                        bar.update()
            if self.error is None:
                self.committer.hand_over_the_rest()
        finally:
            if bar is not None:
                bar.close()
            for cursor in opened:
                cursor.close()

    def finish(self) -> list[FileSummary]:
        """Wait for the last batch to be written (after a failure: the files before it), free
        the scratch database, and raise the first failure, if any; -> the files' summaries."""
        try:
            if self.committer is not None:
                try:
                    self.committer.finish()
                except BaseException as exc:  # noqa: BLE001
                    self.error = self.error or exc
        finally:
            if self.committer is not None:
                self.committer.close()
            if self.scratch is not None:
                self.con.execute(f"DETACH {self.scratch}")
        if self.error is not None:
            raise self.error
        return self.summaries


@contextmanager
def _one_thread_per_worker(con: duckdb.DuckDBPyConnection, workers: int):
    """Parallelism comes from the workers (one file each), so each file's SQL gets its share of
    DuckDB's threads: with 2 cores and 2 workers, one thread per query. More threads per query
    than cores only add scheduling overhead (about 15% more CPU time at 100k orders). The
    setting is the database's, so it is restored when the run ends."""
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.execute(f"SET threads = {max(1, int(threads) // max(1, workers))}")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(threads)}")


def _ingest_files(con: duckdb.DuckDBPyConnection, landing_dir: Path, source: str,
                  files: list[tuple[Path, date | None]], workers: int, progress: bool) -> list[FileSummary]:
    """Ingest files in "later" order with up to `workers` files loading at once (each on its own
    cursor, with threads/workers DuckDB threads) and written in order, in batches."""
    run = _SourceRun(con, landing_dir, source, files, workers, progress)
    with _one_thread_per_worker(con, run.workers):
        run.load()
        return run.finish()


def ingest_file(con: duckdb.DuckDBPyConnection, landing_dir: Path, source: str, path: Path,
                export_date: date | None) -> FileSummary:
    """Ingest one delivered file (one transaction) and return what happened to it."""
    ensure_tables(con, [source])
    return _ingest_files(con, Path(landing_dir).resolve(), source, [(path, export_date)], 1, False)[0]


def ingest_source(con: duckdb.DuckDBPyConnection, landing_dir: Path | str, source: str,
                  export_dates: list[str] | None = None, progress: bool = True,
                  workers: int = DEFAULT_WORKERS) -> SourceSummary:
    """Ingest the new files of one source (`<landing>/<source>/<YYYY-MM-DD>/*`, or
    `reference/fx_rates/*`), in "later" order, optionally only some export dates.

    Files already ingested are not touched; the returned summary lists every file seen.
    `workers` files are parsed and validated at once; commits stay in order.
    """
    if source not in LOADERS:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(LOADERS)}")
    landing_dir = Path(landing_dir).resolve()
    ensure_tables(con, [source])
    files = list_source_files(landing_dir, source, export_dates)
    return SourceSummary(source, _ingest_files(con, landing_dir, source, files, workers, progress))


def ingest_all(con: duckdb.DuckDBPyConnection, landing_dir: Path | str, export_dates: list[str] | None = None,
               progress: bool = True, workers: int = DEFAULT_WORKERS,
               sources: tuple[str, ...] | list[str] = SOURCES,
               published_file: Path | None = None) -> dict[str, SourceSummary]:
    """Ingest every source of the landing folder, largest first; -> summary per source, in
    SOURCES order.

    Sources overlap: once every file of a source is loaded, its writer starts on the last batch
    and the next source starts loading beside it (alone, that write would leave a core idle:
    about 18 s of a 1M-order ingest). A source whose loading fails stops the run
    before the next source starts. A failure in writing a source's last batch is raised once
    the next source is loaded; that source's files are written all the same (each file is
    all-or-nothing either way, and a later run picks up what is missing).

    `published_file`: the published version whose exception history is carried in first
    (ingest.history); finance resolutions are checked against it.
    """
    ensure_tables(con)
    if published_file is not None:
        history.carry_in(con, published_file)
    landing_dir = Path(landing_dir).resolve()
    files = {source: list_source_files(landing_dir, source, export_dates) for source in sources}
    summaries: dict[str, SourceSummary] = {}
    unfinished: list[_SourceRun] = []  # in run order: at most the one still writing, and the next

    def finish_oldest() -> None:
        run = unfinished.pop(0)
        summaries[run.source] = SourceSummary(run.source, run.finish())

    with _one_thread_per_worker(con, workers):
        try:
            for source in _largest_first(files):
                run = _SourceRun(con, landing_dir, source, files[source], workers, progress)
                unfinished.append(run)
                run.load()
                # The previous source is written by now, or nearly; after a failed load, this
                # one's files before the failure are written and its failure raised.
                while len(unfinished) > 1 or (unfinished and run.error is not None):
                    finish_oldest()
            while unfinished:
                finish_oldest()
        finally:
            for run in unfinished:  # a failure escaped: still stop their writers and free their files
                try:
                    run.finish()
                except BaseException:  # noqa: BLE001 - the first failure is the one raised
                    pass
    return {source: summaries[source] for source in SOURCES if source in summaries}


def _largest_first(files: dict[str, list[tuple[Path, date | None]]]) -> list[str]:
    """Sources by the bytes of their files, largest first (ties in SOURCES order). Nothing can
    overlap the last source's last write, so it had better be a small one: at 1M orders the
    invoices' last write, last in SOURCES order, took about 3 s."""
    size = {source: sum(path.stat().st_size for path, _ in paths) for source, paths in files.items()}
    return sorted(files, key=lambda source: -size[source])


def forget_export_dates(con: duckdb.DuckDBPyConnection, source: str, export_dates: list[str]) -> None:
    """Remove everything ingested from these export dates of a source (raw rows, rejects,
    accounting), so the next ingest loads those folders again."""
    ensure_tables(con, [source])
    con.execute("BEGIN TRANSACTION")
    try:
        for table in RAW_TABLES[source]:
            con.execute(f"DELETE FROM raw.{table} WHERE _export_date IN (SELECT unnest(?::DATE[]))",
                        [list(export_dates)])
        accounting.forget_files(con, source, list(export_dates))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def summary_metadata(summary: SourceSummary) -> dict[str, object]:
    """Plain values for run metadata (Dagster materialization metadata)."""
    return {
        "records_read": summary.records_read,
        "records_loaded": summary.records_loaded,
        "records_quarantined": summary.records_quarantined,
        "repeats_skipped": summary.repeats_skipped,
        "files_loaded": len(summary.files_with_status("loaded")),
        "files_duplicate": len(summary.files_with_status("duplicate_file")),
        "files_malformed": len(summary.files_with_status("malformed_file")),
        "files_unchanged": len(summary.files_with_status("unchanged")),
        "malformed_files": "\n".join(summary.malformed_files) or "none",
    }
