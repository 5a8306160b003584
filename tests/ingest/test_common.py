"""Shared readers: the bulk CSV path (DuckDB splits the fields) gives exactly what Python's csv
module gives, and hands every file it cannot split faithfully to the csv module."""
from __future__ import annotations

import pytest

from ingest import common

COLUMNS = ("a", "b", "c")
HEADER = "a,b,c\n"

# text after the header, and whether the bulk path takes it
CASES = {
    "unquoted": ("1,2,3\n4,5,6\n", True),
    "thousands-separator": ('1,"1,234.50",x\n2,3,4\n', True),
    "doubled-quote": ('1,"say ""hi""",3\n', True),
    "empty-quoted-and-trailing-empty": ('"",,""\n1,2,\n', True),
    "too-few-and-too-many-fields": ('1,"2,3"\n1,2,3,4\n', True),
    "blank-lines-not-numbered": ('\n1,"2",3\n   \n4,5,6\n', True),
    "crlf": ('1,"2",3\r\n4,5,6\r\n', True),
    "quoted-blank-line": ('1,2,3\n"  "\n4,5,6\n', False),
    "quoted-newline": ('1,"two\nlines",3\n', False),
    "quote-inside-unquoted": ('1,ab"c,3\n', False),
    "text-after-closing-quote": ('1,"ab"c,3\n', False),
    "lone-carriage-return": ('1,"2",3\r4,5,6\n', False),
}


def _read(con, text: str, table: str) -> list[tuple]:
    common.read_csv_records(con, text, COLUMNS, table)
    return con.execute(f"SELECT * FROM {table} ORDER BY record_no").fetchall()


@pytest.mark.parametrize("body, bulk", CASES.values(), ids=CASES.keys())
def test_bulk_csv_path_equals_the_csv_module(con, monkeypatch, body, bulk):
    text = HEADER + body
    assert (text.count("\r") == text.count("\r\n") and common._quotes_are_simple(text)) == bulk
    chosen = _read(con, text, "chosen")
    monkeypatch.setattr(common, "_quotes_are_simple", lambda _: False)  # force the csv module
    assert chosen == _read(con, text, "python")


def test_quoted_header_goes_to_the_csv_module(con):
    assert not common._quotes_are_simple('"a",b,c\n1,2,3\n')
    common.read_csv_records(con, '"a",b,c\n1,2,3\n', COLUMNS, "t")
    assert con.execute("SELECT a, b, c FROM t").fetchall() == [("1", "2", "3")]
