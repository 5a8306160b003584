"""Loader of erp/invoices (spec sources.md): one `<InvoiceBatch>` of `<Invoice>` elements.

Reading: lxml parses the file and an XSLT stylesheet flattens every `<Invoice>` into one
delimited text in C (no Python per element, and lxml releases the GIL, so two files parse at
once); DuckDB splits that text into columns. A file the stylesheet cannot flatten faithfully
(markup inside a field, comments, CDATA, processing instructions, character or entity
references, the delimiter characters) is read by
the element-by-element path instead, whose results the fast path is tested to equal. That
path streams the file with iterparse (each `<Invoice>` cleared once read). Validation then
runs in DuckDB like every other source. A file that is not well-formed
XML, or whose root is not `<InvoiceBatch>`, is malformed_file (nothing of it is loaded).

Record number: position of the `<Invoice>` among the batch's `<Invoice>` children. Validation
order: InvoiceId, InvoiceNo (exactly 20 digits), Type, Status, IssuedAt (with offset), Currency,
BuyerId, OriginalInvoiceId (required on credit notes only), Lines (at least one `<Line>`), then
line by line OrderId, NetAmount, TaxAmount. Our call on signs: amounts on a `normal` invoice
must be ≥ 0 and unsigned; on a `credit_note` they must be ≤ 0 (`-12.34` or zero), so a credit
note can never add to what is invoiced.
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
from lxml import etree

from ingest.common import (
    AMOUNT_RE, SIGNED_AMOUNT_RE, FileLoad, MalformedFile, Outputs, Rule, first_reason_sql, is_blank_sql, quote_ident,
    sql_str, split_checked, text_reason_sql, with_record_hash,
)

INVOICE_RULES: tuple[Rule, ...] = (
    Rule("InvoiceId"),
    Rule("InvoiceNo"),  # 20 digits, checked below
    Rule("Type", "enum", values=("normal", "credit_note")),
    Rule("Status", "enum", values=("issued", "voided")),
    Rule("IssuedAt", "ts_offset"),
    Rule("Currency", "currency"),
    Rule("BuyerId"),
    Rule("OriginalInvoiceId", required=False),  # required on credit notes, checked below
)
LINE_FIELDS = ("OrderId", "NetAmount", "TaxAmount")

INVOICE_COLUMNS = tuple(rule.name for rule in INVOICE_RULES)
INVOICE_LINE_COLUMNS = ("InvoiceId", "line_no") + LINE_FIELDS

RAW_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "erp/invoices": {"erp_invoices": INVOICE_COLUMNS, "erp_invoice_lines": INVOICE_LINE_COLUMNS},
}


# An <Invoice> element as written in the file (no nested <Invoice> exists in this format).
# The same pattern cuts the spans in Python (element path) and in DuckDB's RE2 (fast path).
_INVOICE_SPAN_PATTERN = r"<Invoice(?:\s[^>]*)?(?:/>|>.*?</Invoice\s*>)"
_INVOICE_SPAN = re.compile(_INVOICE_SPAN_PATTERN.encode(), re.DOTALL)


def _delivered_texts(path: Path, expected: int) -> list[str] | None:
    """Each <Invoice>'s text exactly as delivered, when the file can be cut unambiguously
    (as many spans as the parser saw, UTF-8); None otherwise (then lxml's serialization is used)."""
    data = path.read_bytes()
    if b"<!--" in data or b"<![CDATA[" in data:
        return None  # an <Invoice> lookalike inside a comment or CDATA would shift the spans
    spans = _INVOICE_SPAN.findall(data)
    if len(spans) != expected:
        return None
    try:
        return [span.decode("utf-8") for span in spans]
    except UnicodeDecodeError:
        return None


def _child_texts(element, tags) -> list[str | None]:
    """The text of the first child with each tag ("" when empty), None when there is none
    (like element.find(tag), but one pass over the children for all tags)."""
    first: dict = {}
    for child in element:
        first.setdefault(child.tag, child)
    texts: list[str | None] = []
    for tag in tags:
        child = first.get(tag)
        texts.append(None if child is None else (child.text or ""))
    return texts


def _invoices(path: Path):
    """Each `<Invoice>` child of the root, streamed (iterparse reports only `<Invoice>` ends;
    what was read is dropped from the tree, so memory stays bounded). Yields (root, element)."""
    context = etree.iterparse(str(path), events=("end",), tag="Invoice", resolve_entities=False,
                              no_network=True, huge_tree=True)
    try:
        for _, element in context:
            parent = element.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # an <Invoice> deeper in the tree is read with its ancestor, if at all
            if parent.tag != "InvoiceBatch":
                raise MalformedFile(f"root element is <{parent.tag}>, not <InvoiceBatch>")
            yield parent, element
            # Bounded memory: drop what was read (and earlier siblings) from the tree.
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        root = context.root
        if root is not None and root.tag != "InvoiceBatch":
            raise MalformedFile(f"root element is <{root.tag}>, not <InvoiceBatch>") from None
        raise MalformedFile(f"not well-formed XML: {exc}") from exc
    root = context.root
    if root is None:
        raise MalformedFile("no XML root element")
    if root.tag != "InvoiceBatch":
        raise MalformedFile(f"root element is <{root.tag}>, not <InvoiceBatch>")


def read_invoice_elements(path: Path) -> tuple[dict[str, list], dict[str, list]]:
    """Stream the XML file into column lists: invoices (record_no, raw_text, fields, n_lines)
    and lines (record_no, line_no, OrderId, NetAmount, TaxAmount)."""
    invoices: dict[str, list] = {"record_no": [], "raw_text": [], "n_lines": [], **{c: [] for c in INVOICE_COLUMNS}}
    lines: dict[str, list] = {"record_no": [], "line_no": [], **{c: [] for c in LINE_FIELDS}}
    invoice_columns = [invoices[c] for c in INVOICE_COLUMNS]
    line_columns = [lines[c] for c in LINE_FIELDS]
    position = 0
    for _, element in _invoices(path):
        position += 1
        invoices["record_no"].append(position)
        for column, text in zip(invoice_columns, _child_texts(element, INVOICE_COLUMNS)):
            column.append(text)
        lines_element = element.find("Lines")
        line_elements = lines_element.findall("Line") if lines_element is not None else []
        invoices["n_lines"].append(len(line_elements))
        for line_no, line in enumerate(line_elements, start=1):
            lines["record_no"].append(position)
            lines["line_no"].append(line_no)
            for column, text in zip(line_columns, _child_texts(line, LINE_FIELDS)):
                column.append(text)
    delivered = _delivered_texts(path, position)
    if delivered is None:
        # Cannot cut the file's text unambiguously: use lxml's serialization (a second pass).
        delivered = [etree.tostring(element, encoding="unicode", with_tail=False) for _, element in _invoices(path)]
    invoices["raw_text"] = delivered
    return invoices, lines


def _register_frame(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list], table: str) -> None:
    frame = pd.DataFrame({key: pd.Series(values, dtype="int64" if key in ("record_no", "line_no", "n_lines") else "object")
                          for key, values in columns.items()})
    select = ", ".join(
        f"{quote_ident(key)}::{'INTEGER' if key in ('record_no', 'line_no', 'n_lines') else 'VARCHAR'} AS {quote_ident(key)}"
        for key in columns
    )
    con.register(name, frame)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {select} FROM {name}")
    finally:
        con.unregister(name)


def _amount_reason(column: str) -> str:
    """Reason for a line amount, by the sign rule of the invoice's Type (column `Type` in scope)."""
    value = quote_ident(column)
    return (
        f"CASE WHEN {is_blank_sql(value)} THEN 'missing_field:{column}' "
        f"WHEN \"Type\" = 'credit_note' AND NOT (regexp_full_match({value}, {sql_str(SIGNED_AMOUNT_RE)}) "
        f"     AND try_cast({value} AS DECIMAL(18,2)) <= 0) THEN 'invalid_value:{column}' "
        f"WHEN \"Type\" <> 'credit_note' AND NOT regexp_full_match({value}, {sql_str(AMOUNT_RE)}) "
        f"     THEN 'invalid_value:{column}' END"
    )


# Delimiters of the flattened text: private-use characters, legal in XML but never in these
# exports (a file holding them, even as a character reference, takes the element path).
_RECORD, _FIELD = "\ue000", "\ue001"


def _field_xslt(tag: str) -> str:
    """`P<text>` for a present element (its first one), `A` for an absent one, then _FIELD."""
    return (f'<xsl:choose><xsl:when test="{tag}">P<xsl:value-of select="{tag}[1]"/></xsl:when>'
            f'<xsl:otherwise>A</xsl:otherwise></xsl:choose><xsl:text>{_FIELD}</xsl:text>')


# Per <Invoice> child of the root: _RECORD, the header fields, then the fields of every <Line> of
# its first <Lines>. A field's XPath string value equals lxml's `.text` when the field holds only
# text (the predefined entities are text to both), which _NOT_FAST and _MARKUP_IN_FIELD check.
_FLATTEN = etree.XSLT(etree.XML(f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="/"><xsl:for-each select="InvoiceBatch/Invoice"><xsl:text>{_RECORD}</xsl:text>
{"".join(_field_xslt(tag) for tag in INVOICE_COLUMNS)}<xsl:for-each select="Lines[1]/Line">{"".join(_field_xslt(tag) for tag in LINE_FIELDS)}</xsl:for-each>
</xsl:for-each></xsl:template></xsl:stylesheet>""".encode()))

# Bytes that send a file to the element path: character and entity references (they could
# spell the delimiters or hide markup), comments, CDATA and processing instructions (markup
# inside a field; <Invoice> lookalikes that would shift the raw-text spans), the delimiters.
_NOT_FAST = (b"&#", b"<!", b"<?", _RECORD.encode(), _FIELD.encode())
# A field start tag whose text is followed by another start tag: an element inside a field.
_MARKUP_IN_FIELD = (r"<(" + "|".join(INVOICE_COLUMNS + LINE_FIELDS) + r")(\s[^>]*)?>[^<]*<[^/]")
_INVOICE_SPAN_RE2 = "(?s)" + _INVOICE_SPAN_PATTERN


def _read_invoices_flattened(con: duckdb.DuckDBPyConnection, path: Path, text_table: str, lines_table: str) -> int | None:
    """The fast path: fill `text_table` and `lines_table` as read_invoice_elements + _register_frame
    would; -> records read, or None when the file needs the element-by-element path."""
    data = path.read_bytes()
    body = data[data.index(b"?>") + 2:] if data.startswith(b"<?xml") and b"?>" in data else data
    if any(marker in body for marker in _NOT_FAST):
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None  # the element path names the fault (and the root, when it is the wrong one)
    if root.tag != "InvoiceBatch":
        raise MalformedFile(f"root element is <{root.tag}>, not <InvoiceBatch>")
    flat = str(_FLATTEN(root))
    del root, data, body
    count = flat.count(_RECORD)
    # DuckDB cuts each <Invoice>'s delivered text (UTF-8 checked by read_text) and looks for
    # markup inside fields, with the GIL released.
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _erp_file AS
               SELECT regexp_extract_all(content, ?) AS spans, regexp_matches(content, ?) AS markup
               FROM read_text(?)""", [_INVOICE_SPAN_RE2, _MARKUP_IN_FIELD, str(path)])
    except duckdb.InvalidInputException:
        return None
    [(spans, markup)] = con.execute("SELECT len(spans), markup FROM _erp_file").fetchall()
    if markup or spans != count:
        con.execute("DROP TABLE _erp_file")
        return None
    header = len(INVOICE_COLUMNS)
    value = lambda i: f"CASE WHEN starts_with(f[{i}], 'P') THEN f[{i}][2:] END"  # noqa: E731
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _erp_flat AS
            SELECT n::INTEGER AS record_no, string_split(record, {sql_str(_FIELD)}) AS f, span
            FROM (SELECT unnest(records) AS record, unnest(spans) AS span, generate_subscripts(records, 1) AS n
                  FROM (SELECT string_split(?, {sql_str(_RECORD)})[2:] AS records, spans FROM _erp_file))""",
        [flat],
    )
    del flat
    con.execute("DROP TABLE _erp_file")
    columns = ", ".join(f"{value(i)} AS {quote_ident(c)}" for i, c in enumerate(INVOICE_COLUMNS, start=1))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {text_table} AS
            SELECT record_no, span AS raw_text,
                   ((len(f) - 1 - {header}) // {len(LINE_FIELDS)})::INTEGER AS n_lines, {columns}
            FROM _erp_flat ORDER BY record_no"""
    )
    line_columns = ", ".join(
        f"{value(f'{header} + 1 + k * {len(LINE_FIELDS)} + {i}')} AS {quote_ident(c)}"
        for i, c in enumerate(LINE_FIELDS))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {lines_table} AS
            SELECT record_no, (k + 1)::INTEGER AS line_no, {line_columns}
            FROM (SELECT record_no, f, unnest(range((len(f) - 1 - {header}) // {len(LINE_FIELDS)})) AS k FROM _erp_flat)
            ORDER BY record_no, line_no"""
    )
    con.execute("DROP TABLE _erp_flat")
    return count


def load_invoices(con: duckdb.DuckDBPyConnection, path: Path, into: str | None = None) -> FileLoad:
    """Invoice batch XML file -> candidate rows of raw.erp_invoices and raw.erp_invoice_lines, plus rejects."""
    p = "_erp_invoices"
    records = _read_invoices_flattened(con, path, f"{p}_text", f"{p}_lines")
    if records is None:
        invoices, lines = read_invoice_elements(path)
        records = len(invoices["record_no"])
        _register_frame(con, "_erp_invoice_frame", invoices, f"{p}_text")
        _register_frame(con, "_erp_line_frame", lines, f"{p}_lines")
    line_reason = first_reason_sql(
        [text_reason_sql(Rule("OrderId"), '"OrderId"'), _amount_reason("NetAmount"), _amount_reason("TaxAmount")]
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {p}_line_reasons AS
            SELECT record_no, arg_min(reason, line_no) AS reason
            FROM (SELECT l.record_no, l.line_no, {line_reason} AS reason
                  FROM {p}_lines AS l JOIN {p}_text AS i USING (record_no))
            WHERE reason IS NOT NULL GROUP BY record_no"""
    )
    reasons = []
    for rule in INVOICE_RULES:
        column = quote_ident(rule.name)
        if rule.name == "InvoiceNo":
            reasons.append(f"CASE WHEN {is_blank_sql(column)} THEN 'missing_field:InvoiceNo' "
                           f"WHEN NOT regexp_full_match({column}, '\\d{{20}}') THEN 'invalid_value:InvoiceNo' END")
        elif rule.name == "OriginalInvoiceId":
            reasons.append(f"CASE WHEN \"Type\" = 'credit_note' AND {is_blank_sql(column)} "
                           f"THEN 'missing_field:OriginalInvoiceId' END")
        else:
            reasons.append(text_reason_sql(rule, column))
    reasons.append("CASE WHEN n_lines = 0 THEN 'missing_field:Lines' ELSE lr.reason END")
    out = Outputs(p, into)
    checked, line_rows = out.name("checked"), out.name("line_rows")
    checked_sql = f"""
            SELECT i.*, {first_reason_sql(reasons)} AS reason
            FROM {p}_text AS i LEFT JOIN {p}_line_reasons AS lr USING (record_no)"""
    con.execute(f"{out.create} {checked} AS {with_record_hash(checked_sql)}")
    rows, rejects = split_checked(checked, INVOICE_COLUMNS)
    con.execute(
        f"""{out.create} {line_rows} AS
            SELECT r."InvoiceId", l.line_no::VARCHAR AS line_no, l."OrderId", l."NetAmount", l."TaxAmount",
                   r._record_no, r._record_hash
            FROM {rows} AS r JOIN {p}_lines AS l ON l.record_no = r._record_no
            ORDER BY r._record_no, l.line_no"""
    )
    temp = [f"{p}_{t}" for t in ("text", "lines", "line_reasons")]
    return FileLoad(records, {"erp_invoices": rows, "erp_invoice_lines": line_rows}, rejects, temp, [checked, line_rows])
