"""Streaming writer of the landing folder: bounded memory, deterministic file names.

Records are appended to per-(source, export date, series) files through small buffers that
are flushed whenever they grow, so memory stays bounded at any scale. Two series per folder:
`<prefix>_NNNN` for first deliveries and `<prefix>_updates_NNNN` for updates (a gateway
status change, an invoice re-exported as voided). `_updates_` sorts after every `_NNNN` part
(byte order: 'u' > '0'..'9'), so an update is always *later* than what it updates on the same
day, as the spec's winning-version rules require.
"""
from __future__ import annotations

import shutil
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from .formats import DATED_SOURCES, XML_BATCH_CLOSE, SourceFormat, csv_header, record_text, xml_batch_open


@dataclass
class _OpenFile:
    path: str  # relative to the landing folder, '/'-separated
    fmt: SourceFormat
    export_date: str
    records: int = 0  # records written (drives the rotation to a new part)
    lines: int = 0  # physical lines after the header: a JSON Lines record's number is its line
    buffered: list[str] = field(default_factory=list)
    created: bool = False


@dataclass(frozen=True)
class InvalidRecord:
    """One record the loaders must quarantine (record_no 0: the whole file)."""

    source: str
    file_path: str
    record_no: int
    reason: str


class LandingWriter:
    """Appends record text to the right file of the right export-date folder."""

    def __init__(self, out_dir: Path, first_day: date, last_day: date, max_records_per_file: int = 100_000,
                 flush_every: int = 100_000):
        self.out_dir = out_dir
        self.first_day = first_day.isoformat()
        self.last_day = last_day.isoformat()
        self.max_records_per_file = max_records_per_file
        self.flush_every = flush_every
        self._current: dict[tuple[str, str, bool], _OpenFile] = {}
        self._parts: dict[tuple[str, str, bool], int] = {}
        self._all_files: dict[str, _OpenFile] = {}
        self._buffered_lines = 0
        self.invalid: list[InvalidRecord] = []
        self.records_written: dict[str, int] = {fmt.key: 0 for fmt in DATED_SOURCES}
        self.undelivered: dict[str, int] = {fmt.key: 0 for fmt in DATED_SOURCES}
        self.exact_repeats = 0
        # A few recent texts per source: material for exact repeats and malformed files.
        self.recent: dict[str, deque[str]] = {fmt.key: deque(maxlen=64) for fmt in DATED_SOURCES}

    # ------------------------------------------------------------------ routing

    def export_day(self, local_date: str) -> str | None:
        """Folder of a record dated `local_date`: before the span → first day (initial backfill);
        after the span → None (not delivered yet)."""
        if local_date > self.last_day:
            return None
        return max(local_date, self.first_day)

    def _file_for(self, fmt: SourceFormat, day: str, updates: bool) -> _OpenFile:
        key = (fmt.key, day, updates)
        current = self._current.get(key)
        if current is None or current.records >= self.max_records_per_file:
            part = self._parts.get(key, 0) + 1
            self._parts[key] = part
            name = f"{fmt.prefix}_updates_{part:04d}.{fmt.ext}" if updates else f"{fmt.prefix}_{part:04d}.{fmt.ext}"
            current = _OpenFile(f"{fmt.key}/{day}/{name}", fmt, day)
            self._current[key] = current
            self._all_files[current.path] = current
        return current

    # ------------------------------------------------------------------ writing

    def emit(self, fmt: SourceFormat, local_date: str, record, *, updates: bool = False) -> tuple[str, int] | None:
        """Write one valid record; returns (file path, record_no), or None when not delivered."""
        day = self.export_day(local_date)
        if day is None:
            self.undelivered[fmt.key] += 1
            return None
        text = record_text(fmt, record)
        where = self._append(fmt, day, text, updates)
        self.records_written[fmt.key] += 1
        self.recent[fmt.key].append(text)
        return where

    def emit_text(self, fmt: SourceFormat, local_date: str, text: str, *, updates: bool = False,
                  reason: str | None = None, exact_repeat: bool = False) -> tuple[str, int] | None:
        """Write raw record text: an invalid record (`reason` set) or an exact repeat."""
        day = self.export_day(local_date)
        if day is None:
            return None
        path, record_no = self._append(fmt, day, text, updates)
        if reason is not None:
            self.invalid.append(InvalidRecord(fmt.key, path, record_no, reason))
        if exact_repeat:
            self.exact_repeats += 1
        return path, record_no

    def blank_line(self, fmt: SourceFormat, local_date: str) -> None:
        """A blank line in a JSON Lines file: not a record (sources.md), loaders must skip it."""
        day = self.export_day(local_date)
        if day is not None and fmt.ext == "jsonl":
            open_file = self._file_for(fmt, day, False)
            if open_file.records:
                open_file.buffered.append("")
                open_file.lines += 1

    def _append(self, fmt: SourceFormat, day: str, text: str, updates: bool) -> tuple[str, int]:
        open_file = self._file_for(fmt, day, updates)
        open_file.records += 1
        open_file.lines += 1
        open_file.buffered.append(text)
        self._buffered_lines += 1
        if self._buffered_lines >= self.flush_every:
            self.flush()
        # Record numbers (sources.md): JSON Lines, the line number in the file (a blank line is no
        # record but still a line); CSV, the data row; XML, the <Invoice> position.
        return open_file.path, (open_file.lines if fmt.ext == "jsonl" else open_file.records)

    def flush(self) -> None:
        """Append every buffer to its file (creating it with its header on first use)."""
        for open_file in self._all_files.values():
            if not open_file.buffered:
                continue
            target = self.out_dir / open_file.path
            chunk = "".join(line + "\n" for line in open_file.buffered)
            if not open_file.created:
                target.parent.mkdir(parents=True, exist_ok=True)
                head = ""
                if open_file.fmt.ext == "csv":
                    head = csv_header(open_file.fmt) + "\n"
                elif open_file.fmt.ext == "xml":
                    head = xml_batch_open(open_file.export_date) + "\n"
                chunk = head + chunk
                open_file.created = True
                mode = "wb"
            else:
                mode = "ab"
            with open(target, mode) as handle:
                handle.write(chunk.encode(open_file.fmt.encoding))
            open_file.buffered.clear()
        self._buffered_lines = 0

    def close(self) -> list[str]:
        """Flush everything, close the XML batches; returns every written file path, sorted."""
        self.flush()
        for open_file in self._all_files.values():
            if open_file.fmt.ext == "xml" and open_file.created:
                with open(self.out_dir / open_file.path, "ab") as handle:
                    handle.write((XML_BATCH_CLOSE + "\n").encode("utf-8"))
        return sorted(path for path, f in self._all_files.items() if f.created)

    # ------------------------------------------------------------------ whole files

    def write_raw_file(self, fmt: SourceFormat, day: str, name: str, content: bytes, reason: str) -> str:
        """A file written whole, e.g. a deliberately malformed one (one quarantine row, record 0)."""
        path = f"{fmt.key}/{day}/{name}"
        target = self.out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        self.invalid.append(InvalidRecord(fmt.key, path, 0, reason))
        return path

    def redeliver(self, path: str, to_day: str) -> str:
        """Copy a written file byte for byte to a later position: same name in a later day
        folder, or `<stem>_resent` beside it (sorts after the original, so the original is
        the one loaded and the copy the skipped duplicate)."""
        source_key, day, name = path.rsplit("/", 2)
        stem, ext = name.rsplit(".", 1)
        if to_day > day and not (self.out_dir / source_key / to_day / name).exists():
            new_path = f"{source_key}/{to_day}/{name}"
        else:
            new_path = f"{source_key}/{day}/{stem}_resent.{ext}"
        target = self.out_dir / new_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.out_dir / path, target)
        return new_path


def day_range(first: date, days: int) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range(days)]
