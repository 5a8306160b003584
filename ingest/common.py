"""What every loader shares: the result of loading one file, field rules compiled to SQL, and
the readers that turn a delivered file into one DuckDB row per record (number + raw text).

Loaders validate in set-based DuckDB SQL: each field rule below becomes a SQL expression that
yields the reject reason for that field (or NULL), and a record's reason is the first non-NULL
one in the field order of the spec's tables (docs/ingest-validation in the loader docstrings).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import duckdb
import pandas as pd


class MalformedFile(Exception):
    """The whole file is unreadable (undecodable bytes, not well-formed XML, wrong CSV header)."""


@dataclass
class FileLoad:
    """What a loader made of one file.

    `tables` maps each raw table (parent first) to a relation (a table name or a parenthesised
    query) with its candidate rows: the delivered columns plus `_record_no` and `_record_hash`
    (a child row carries its parent record's). Child rows link to their parent record by
    `_record_no`. `rejects` is a relation (record_no, reason, raw_text). Every record read is in
    exactly one of the parent relation or `rejects`. The relations read `outputs`, tables made
    where the caller asked (see Outputs); `temp_tables` are the loader's intermediate temp
    tables and views, which the caller may drop once the load returns.
    """

    records_read: int
    tables: dict[str, str]
    rejects: str
    temp_tables: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outputs:
    """Where a loader creates the tables it hands over: temp tables named after the loader
    (`prefix`) by default, or tables named `<into>_<name>` (e.g. `scratch.f12_checked`) that
    other cursors can read, so the runner's writer uses them without a copy."""

    prefix: str
    into: str | None = None

    def name(self, suffix: str) -> str:
        return f"{self.into}_{suffix}" if self.into else f"{self.prefix}_{suffix}"

    @property
    def create(self) -> str:
        return "CREATE OR REPLACE TABLE" if self.into else "CREATE OR REPLACE TEMP TABLE"


# --- field rules ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One delivered field: its name, kind of check, and whether it is required."""

    name: str
    kind: str = "text"
    required: bool = True
    values: tuple[str, ...] = ()


DATE_RE = r"\d{4}-\d{2}-\d{2}"
HMS_RE = r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
# ISO 8601 with an offset: seconds and fractions optional, `Z` or ±HH:MM / ±HHMM / ±HH.
TS_OFFSET_RE = DATE_RE + r"[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)"
# Amounts fit DECIMAL(18,2): at most 16 integer digits, at most 2 decimals, no sign.
AMOUNT_RE = r"\d{1,16}(\.\d{1,2})?"
SIGNED_AMOUNT_RE = r"-?\d{1,16}(\.\d{1,2})?"
BANK_AMOUNT_RE = r"(\d{1,3}(,\d{3}){1,5}|\d{1,16})(\.\d{1,2})?"  # thousands separators allowed here only
RATE_RE = r"\d{1,12}(\.\d{1,12})?"
INTEGER_RE = r"\d{1,18}"


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _match(value: str, pattern: str) -> str:
    return f"regexp_full_match({value}, {sql_str(pattern)})"


def _valid_date(value: str) -> str:
    return f"try_cast(left({value}, 10) AS DATE) IS NOT NULL"


def value_ok_sql(kind: str, value: str, values: tuple[str, ...] = ()) -> str:
    """SQL boolean: the (non-empty) text `value` is valid for `kind`."""
    if kind == "text":
        return "true"
    if kind == "alnum":
        return _match(value, "[A-Za-z0-9]+")
    if kind == "enum":
        return f"{value} IN ({', '.join(sql_str(v) for v in values)})"
    if kind == "currency":
        return _match(value, "[A-Z]{3}")
    if kind == "ts_offset":
        return _both(_match(value, TS_OFFSET_RE), _valid_date(value))
    if kind == "ts_utc":
        return _both(_match(value, DATE_RE + 'T' + HMS_RE + 'Z'), _valid_date(value))
    if kind == "ts_naive":
        return _both(_match(value, DATE_RE + ' ' + HMS_RE), _valid_date(value))
    if kind == "date":
        return _both(_match(value, DATE_RE), _valid_date(value))
    if kind == "amount":
        return _match(value, AMOUNT_RE)
    if kind == "amount_pos":
        return _both(_match(value, AMOUNT_RE), f"try_cast({value} AS DECIMAL(18,2)) > 0")
    if kind == "bank_amount":
        return _match(value, BANK_AMOUNT_RE)
    if kind == "rate":
        return _match(value, RATE_RE)
    if kind == "rate_pos":
        return _both(_match(value, RATE_RE), f"try_cast({value} AS DOUBLE) > 0")
    if kind == "int_pos":
        return _both(_match(value, INTEGER_RE), f"try_cast({value} AS BIGINT) > 0")
    raise ValueError(f"unknown field kind {kind!r}")


def is_blank_sql(value: str) -> str:
    return f"({value} IS NULL OR {_blank_text(value)})"


def _blank_text(value: str) -> str:
    """SQL: the text is empty or only whitespace. Whitespace sorts before '!', so the regex runs
    only on the rare text that starts with it; CASE (unlike AND) evaluates its branch only on
    the rows that reach it. (trim() would scan and copy every long text.)"""
    return f"CASE WHEN {value} < '!' THEN regexp_full_match({value}, '[ \\t\\r\\n]*') ELSE false END"


def _both(first: str, second: str) -> str:
    """SQL `first AND second`, evaluating `second` only where `first` holds (see _blank_text)."""
    return f"CASE WHEN {first} THEN {second} ELSE false END"


def text_reason_sql(rule: Rule, value: str) -> str:
    """SQL CASE giving the reject reason of a text field (CSV cell, XML element), or NULL."""
    invalid = f"'invalid_value:{rule.name}'"
    missing = f"WHEN {is_blank_sql(value)} THEN " + (f"'missing_field:{rule.name}'" if rule.required else "NULL")
    return f"CASE {missing} WHEN NOT ({value_ok_sql(rule.kind, value, rule.values)}) THEN {invalid} END"


# JSON types: a decimal must be a JSON string, a count a JSON integer, text a JSON string.
_JSON_INTEGER = "('UBIGINT', 'BIGINT')"


def json_reason_sql(rule: Rule, jtype: str, text: str) -> str:
    """SQL CASE giving the reject reason of one JSON field, or NULL, from its JSON type name
    (`jtype`, NULL when absent) and its text (`text`, the string value or the JSON text).

    Absent, `null` or empty string is missing; a value of the wrong JSON type is invalid (a JSON
    number where a decimal string is expected, a number where text is expected, ...).
    """
    invalid = f"'invalid_value:{rule.name}'"
    blank = f"({jtype} IS NULL OR {jtype} = 'NULL' OR ({jtype} = 'VARCHAR' AND {_blank_text(text)}))"
    missing = f"WHEN {blank} THEN " + (f"'missing_field:{rule.name}'" if rule.required else "NULL")
    wanted_type = f"{jtype} IN {_JSON_INTEGER}" if rule.kind == "int_pos" else f"{jtype} = 'VARCHAR'"
    return (
        f"CASE {missing} WHEN NOT ({wanted_type}) THEN {invalid} "
        f"WHEN NOT ({value_ok_sql(rule.kind, text, rule.values)}) THEN {invalid} END"
    )


def json_struct_type(names: Iterable[str], array: bool = False) -> str:
    """The json_transform type (SQL literal) of an object whose (plain-named) fields are kept
    as JSON texts, or of an array of such objects."""
    structure = "{" + ", ".join(f'"{name}": "JSON"' for name in names) + "}"
    return sql_str(f"[{structure}]" if array else structure)


def json_object_fields_sql(json_text: str, names: Iterable[str]) -> str:
    """SQL STRUCT of the named fields of a JSON object text, each as its JSON text (NULL when
    absent or null), in one parse; NULL when the text is not a JSON object at all.

    One json_transform instead of json_type and json_extract_string with lists of paths: one
    parse, and the struct's fields are columns (lists of texts cost more to build and copy).
    json_valid guards the parse instead of try(): try() makes DuckDB evaluate row by row once
    any row fails. A valid JSON text is an object exactly when it starts with `{`.
    """
    is_object = f"regexp_matches({json_text}, '^[ \\t\\r\\n]*\\{{')"
    return (f"CASE WHEN json_valid({json_text}) THEN CASE WHEN {is_object} "
            f"THEN json_transform({json_text}, {json_struct_type(names)}) END END")


def json_value_type_sql(json_value: str) -> str:
    """SQL: the JSON type name of a JSON text, as json_type names it (any integer is BIGINT);
    NULL for NULL. Valid JSON is told by its first character."""
    return (f"CASE left({json_value}, 1) WHEN '\"' THEN 'VARCHAR' WHEN 'n' THEN 'NULL' "
            f"WHEN '[' THEN 'ARRAY' WHEN '{{' THEN 'OBJECT' WHEN 't' THEN 'BOOLEAN' WHEN 'f' THEN 'BOOLEAN' "
            f"ELSE CASE WHEN regexp_full_match({json_value}, '-?[0-9]+') THEN 'BIGINT' "
            f"WHEN {json_value} IS NOT NULL THEN 'DOUBLE' END END")


def json_value_text_sql(json_value: str) -> str:
    """SQL: a JSON text as json_extract_string gives it: a string unquoted and unescaped, any
    other value its JSON text. (json_transform writes a string with escapes only for quotes,
    backslashes and control characters: most strings just lose their quotes.)"""
    return (f"CASE WHEN NOT starts_with({json_value}, '\"') THEN {json_value} "
            f"WHEN contains({json_value}, '\\') THEN json_extract_string({json_value}, '$') "
            f"ELSE {json_value}[2:-2] END")


def json_field_columns_sql(struct: str, names: Iterable[str]) -> str:
    """SQL select-list: for field i (from 1) of a json_object_fields_sql struct, `t<i>` its
    JSON type name and `s<i>` its text (see json_value_type_sql, json_value_text_sql)."""
    columns = []
    for i, name in enumerate(names, start=1):
        value = f"({struct}.{quote_ident(name)}::VARCHAR)"
        columns.append(f"{json_value_type_sql(value)} AS t{i}, {json_value_text_sql(value)} AS s{i}")
    return ", ".join(columns)


def first_reason_sql(reasons: Iterable[str]) -> str:
    """The first non-NULL reason in field order."""
    return "coalesce(" + ", ".join(reasons) + ")"


# --- readers -------------------------------------------------------------------------------

def read_json_lines(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    """Load a JSON Lines file as temp table `table(record_no, raw_text)`, one row per non-blank line.

    DuckDB splits the file; record_no is the physical line number (blank lines are skipped but
    still counted, per the spec). Undecodable bytes raise MalformedFile.
    """
    try:
        records = con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT n::INTEGER AS record_no,
                   CASE WHEN ends_with(line, chr(13)) THEN line[:-2] ELSE line END AS raw_text
            FROM (
                -- unnest and generate_subscripts of one list are zipped: line i has number i.
                -- (A lateral join on read_text would carry the whole file text into every row.)
                SELECT unnest(lines) AS line, generate_subscripts(lines, 1) AS n
                FROM (SELECT string_split(CASE WHEN starts_with(content, chr(65279))  -- a UTF-8 BOM
                                               THEN content[2:] ELSE content END, chr(10)) AS lines
                      FROM read_text(?))
            )
            -- blank lines are not records (a regex fails fast on a long line; trim() does not)
            WHERE NOT regexp_full_match(line, '[ \t\r]*')
            """,
            [str(path)],
        ).fetchone()[0]  # CREATE TABLE AS returns its row count
    except duckdb.InvalidInputException as exc:
        if "UTF-8" in str(exc):
            raise MalformedFile("not valid UTF-8") from exc
        raise
    return records


def decode_text(data: bytes, encoding: str) -> str:
    """Decode a whole file strictly; undecodable bytes make the file malformed."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise MalformedFile(f"not valid {encoding}: {exc.reason} at byte {exc.start}") from exc
    return text.removeprefix("\ufeff")


def read_csv_records(con: duckdb.DuckDBPyConnection, text: str, columns: tuple[str, ...], table: str,
                     utf8_path: Path | None = None) -> int:
    """Load CSV text as temp table `table(record_no, raw_text, n_fields, <columns>)`.

    Python's csv module parses (it keeps quoted commas and newlines right); the raw text of each
    record is the physical line(s) it came from. The header must be exactly `columns`, else the
    file is malformed. record_no counts data rows, the header excluded; blank rows are not records
    and are not numbered. A row that cannot be parsed, or has another number of fields, keeps
    n_fields <> len(columns) and becomes malformed_record in the loader.
    """
    if text.count("\r") == text.count("\r\n") and _quotes_are_simple(text):
        return _read_simple_csv(con, text, columns, table, utf8_path)
    consumed: list[str] = []

    def physical_lines():
        # Only \n ends a line (str.splitlines would also break on \u2028, \x1c, ... inside a field).
        lines = text.split("\n")
        for number, line in enumerate(lines, start=1):
            if number < len(lines):
                line += "\n"
            elif not line:
                break
            consumed.append(line)
            yield line

    reader = csv.reader(physical_lines(), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise MalformedFile("empty file: no header row") from None
    except csv.Error as exc:
        raise MalformedFile(f"unreadable header: {exc}") from exc
    if tuple(header) != tuple(columns):
        raise MalformedFile(f"header {header!r} differs from {list(columns)!r}")
    consumed.clear()

    width = len(columns)
    record_nos: list[int] = []
    raws: list[str] = []
    n_fields: list[int] = []
    cells: list[list[str | None]] = [[] for _ in columns]
    record_no = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            row = None  # bad quoting: a malformed record, the reader resumes on the next line
        raw = "".join(consumed).rstrip("\r\n")
        consumed.clear()
        if row is not None and (not row or (len(row) == 1 and row[0].strip() == "")):
            continue  # blank line
        record_no += 1
        record_nos.append(record_no)
        raws.append(raw)
        if row is None:
            n_fields.append(-1)
            row = []
        else:
            n_fields.append(len(row))
        if len(row) == width:
            for column_cells, value in zip(cells, row):
                column_cells.append(value)
        else:
            for column_cells in cells:
                column_cells.append(None)

    frame = pd.DataFrame(
        {"record_no": pd.Series(record_nos, dtype="int64"),
         "raw_text": pd.Series(raws, dtype="object"),
         "n_fields": pd.Series(n_fields, dtype="int64"),
         **{f"c{i}": pd.Series(values, dtype="object") for i, values in enumerate(cells)}}
    )
    select_cells = ", ".join(f'c{i}::VARCHAR AS "{name}"' for i, name in enumerate(columns))
    con.register("_csv_frame", frame)
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table} AS
                SELECT record_no::INTEGER AS record_no, raw_text::VARCHAR AS raw_text,
                       n_fields::INTEGER AS n_fields, {select_cells}
                FROM _csv_frame"""
        )
    finally:
        con.unregister("_csv_frame")
    return len(record_nos)


# One CSV field as Python's csv module reads it: quoted (a doubled quote inside stands for one)
# or unquoted without quotes. A line made of such fields parses the same in DuckDB.
_CSV_FIELD = r'(?:"(?:[^"]|"")*"|[^,"]*)'
_CSV_SIMPLE_LINE = re.compile(f"{_CSV_FIELD}(?:,{_CSV_FIELD})*")
_CSV_QUOTED_BLANK = re.compile(r'"[ \t]*"')  # the csv module takes such a line for a blank one


def _quotes_are_simple(text: str) -> bool:
    """True when every line with a quote is a line of well-formed fields (so no quoted field
    spans lines) and the header has none: DuckDB can then split the fields itself."""
    if '"' not in text:
        return True
    lines = text.split("\n")
    if '"' in lines[0]:
        return False
    for line in lines:
        if '"' in line:
            line = line.removesuffix("\r")
            if not _CSV_SIMPLE_LINE.fullmatch(line) or _CSV_QUOTED_BLANK.fullmatch(line):
                return False
    return True


def _csv_fields_sql(line: str) -> str:
    """SQL list of the fields of a line that _quotes_are_simple accepted."""
    quoted_aware = (f"list_transform(regexp_extract_all(',' || {line}, {sql_str(',(' + _CSV_FIELD + ')')}, 1), "
                    """lambda f: CASE WHEN starts_with(f, '"') THEN replace(f[2:-2], '""', '"') ELSE f END)""")
    return f"""CASE WHEN contains({line}, '"') THEN {quoted_aware} ELSE string_split({line}, ',') END"""


def _read_simple_csv(con: duckdb.DuckDBPyConnection, text: str, columns: tuple[str, ...], table: str,
                     utf8_path: Path | None) -> int:
    """read_csv_records for text whose quoted fields (if any) open and close on their line:
    every line is one record and DuckDB splits the fields in bulk, without holding the GIL
    (same numbering, raw text and values as the csv module; tested side by side).
    A UTF-8 file is read by DuckDB itself (faster than passing the text as a parameter)."""
    first_line = text.split("\n", 1)[0].removesuffix("\r")
    if not first_line.strip():
        raise MalformedFile("empty file: no header row")
    header = first_line.split(",")
    if tuple(header) != tuple(columns):
        raise MalformedFile(f"header {header!r} differs from {list(columns)!r}")
    width = len(columns)
    cells = ", ".join(
        f"CASE WHEN len(fields) = {width} THEN fields[{i + 1}] END AS {quote_ident(name)}"
        for i, name in enumerate(columns)
    )
    return con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
            WITH physical AS (
                SELECT unnest(lines) AS line, generate_subscripts(lines, 1) AS line_no
                FROM (SELECT string_split({"content" if utf8_path else "?"}, chr(10)) AS lines
                      {"FROM read_text(?)" if utf8_path else ""})
            ), data_rows AS (
                SELECT line_no, CASE WHEN ends_with(line, chr(13)) THEN line[:-2] ELSE line END AS raw_text
                FROM physical
                WHERE line_no > 1 AND NOT regexp_full_match(line, '[ \t\r]*')
            )
            SELECT (row_number() OVER (ORDER BY line_no))::INTEGER AS record_no, raw_text,
                   len(fields)::INTEGER AS n_fields, {cells}
            FROM (SELECT line_no, raw_text, {_csv_fields_sql("raw_text")} AS fields FROM data_rows)""",
        [str(utf8_path) if utf8_path else text],
    ).fetchone()[0]  # CREATE TABLE AS returns its row count


def has_table(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> bool:
    """The attached database `catalog` has the table (or view) schema.table."""
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? AND table_name = ?",
        [catalog, schema, table]).fetchone()[0])


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- raw tables ----------------------------------------------------------------------------

# Lineage columns of every raw table (docs/architecture.md, "Raw columns").
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_system", "VARCHAR"),
    ("_source", "VARCHAR"),
    ("_file_path", "VARCHAR"),
    ("_export_date", "DATE"),
    ("_record_no", "INTEGER"),
    ("_file_sha256", "VARCHAR"),
    ("_record_hash", "UHUGEINT"),
    ("_loaded_at", "TIMESTAMP"),
)


# The md5 of a record's raw text as a 128-bit number: as collision-safe as the hex text, but
# a fixed-width key that the repeat check joins and the raw tables store far more cheaply.
RECORD_HASH_SQL = "md5_number(raw_text)"
# Warehouses ingested before kept the hex text; md5_number reads the digest's bytes in reverse.
_HEX_MD5_TO_NUMBER_SQL = "('0x' || " + " || ".join(
    f"substr(_record_hash, {2 * byte + 1}, 2)" for byte in reversed(range(16))) + ")::UHUGEINT"


def ensure_raw_table(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> None:
    """Create raw.<table>: the delivered columns as VARCHAR, then the lineage columns (and
    migrate a `_record_hash` stored as hex text by an earlier version to its number)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    column_ddl = [f"{quote_ident(name)} VARCHAR" for name in columns]
    column_ddl += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
    con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table} ({', '.join(column_ddl)})")
    hash_type = con.execute(
        """SELECT data_type FROM duckdb_columns() WHERE database_name = current_database()
           AND schema_name = 'raw' AND table_name = ? AND column_name = '_record_hash'""", [table]).fetchone()
    if hash_type and hash_type[0] == "VARCHAR":
        con.execute(f"ALTER TABLE raw.{table} ALTER COLUMN _record_hash "
                    f"SET DATA TYPE UHUGEINT USING {_HEX_MD5_TO_NUMBER_SQL}")


def with_record_hash(select_sql: str) -> str:
    """A checked query (record_no, raw_text, reason, ...) plus the `_record_hash` of each valid
    record, computed once, where the loader runs (in parallel with other files)."""
    return f"SELECT *, CASE WHEN reason IS NULL THEN {RECORD_HASH_SQL} END AS _record_hash FROM ({select_sql})"


def split_checked(checked: str, columns: tuple[str, ...]) -> tuple[str, str]:
    """The parent rows (reason NULL) and the rejects of a checked table (record_no, raw_text,
    reason, <columns>, _record_hash), as two relations over it (no copy)."""
    select_columns = ", ".join(quote_ident(c) for c in columns)
    rows = f"(SELECT {select_columns}, record_no AS _record_no, _record_hash FROM {checked} WHERE reason IS NULL)"
    rejects = f"(SELECT record_no, reason, raw_text FROM {checked} WHERE reason IS NOT NULL)"
    return rows, rejects


def load_json_lines_flat(con: duckdb.DuckDBPyConnection, path: Path, rules: tuple[Rule, ...],
                         raw_table: str, prefix: str, into: str | None = None) -> FileLoad:
    """Load a JSON Lines file of flat objects: one raw row per valid line.

    Each line is parsed once into its fields' JSON texts (json_object_fields_sql). A line that
    is not a JSON object is malformed_record; otherwise the first failing field, in `rules`
    order, is the reason. Fields not in `rules` are ignored.
    """
    text_table = f"{prefix}_text"
    records = read_json_lines(con, path, text_table)
    names = [rule.name for rule in rules]
    reasons = first_reason_sql(json_reason_sql(rule, f"t{i}", f"s{i}") for i, rule in enumerate(rules, start=1))
    values = ", ".join(f"s{i} AS {quote_ident(name)}" for i, name in enumerate(names, start=1))
    out = Outputs(prefix, into)
    checked = out.name("checked")
    checked_sql = f"""
            WITH parsed AS (
                SELECT record_no, raw_text, {json_object_fields_sql("raw_text", names)} AS j FROM {text_table}
            ), fields AS (
                SELECT record_no, raw_text, j IS NOT NULL AS is_object, {json_field_columns_sql("j", names)}
                FROM parsed
            )
            SELECT record_no, raw_text,
                   CASE WHEN NOT is_object THEN 'malformed_record' ELSE {reasons} END AS reason,
                   {values}
            FROM fields"""
    con.execute(f"{out.create} {checked} AS {with_record_hash(checked_sql)}")
    rows, rejects = split_checked(checked, tuple(names))
    return FileLoad(records, {raw_table: rows}, rejects, [text_table], [checked])


def load_csv_flat(con: duckdb.DuckDBPyConnection, path: Path, encoding: str, rules: tuple[Rule, ...],
                  raw_table: str, prefix: str, extra_reasons: dict[str, str] | None = None,
                  into: str | None = None) -> FileLoad:
    """Load a CSV file whose header must be exactly the rules' names: one raw row per valid row.

    A row with another number of fields is malformed_record; otherwise the first failing column,
    in header order, is the reason. `extra_reasons` replaces a column's rule by a custom SQL CASE
    (for checks that involve several columns).
    """
    columns = tuple(rule.name for rule in rules)
    text = decode_text(path.read_bytes(), encoding)
    text_table = f"{prefix}_text"
    records = read_csv_records(con, text, columns, text_table, path if encoding == "utf-8" else None)
    extra_reasons = extra_reasons or {}
    reasons = first_reason_sql(
        extra_reasons.get(rule.name) or text_reason_sql(rule, quote_ident(rule.name)) for rule in rules
    )
    out = Outputs(prefix, into)
    checked = out.name("checked")
    checked_sql = f"""
            SELECT *, CASE WHEN n_fields <> {len(columns)} THEN 'malformed_record' ELSE {reasons} END AS reason
            FROM {text_table}"""
    con.execute(f"{out.create} {checked} AS {with_record_hash(checked_sql)}")
    rows, rejects = split_checked(checked, columns)
    return FileLoad(records, {raw_table: rows}, rejects, [text_table], [checked])


def drop_temp_objects(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    """Drop a loader's temp tables and views (views first: they read the tables)."""
    views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall()}
    names = list(names)
    for name in [n for n in names if n in views] + [n for n in names if n not in views]:
        con.execute(f"DROP {'VIEW' if name in views else 'TABLE'} IF EXISTS {name}")
