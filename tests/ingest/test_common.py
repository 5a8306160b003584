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


# JSON texts of a field `a` (or whole lines): the one-parse reading of a line's fields
# (json_transform, types told by the first character) gives each field the same reject reason
# and the same text as json_type and json_extract_string, which read the line once per path.
JSON_LINES = {
    "plain": '{"a": "plain"}', "chinese": '{"a": "中文"}', "escaped-quote": r'{"a": "q\"uote"}',
    "backslash": r'{"a": "back\\slash"}', "unicode-escape": r'{"a": "\u0041\u00e9"}',
    "escaped-newline": r'{"a": "line\nbreak"}', "escaped-tab": r'{"a": "\t"}', "escaped-slash": r'{"a": "\/"}',
    "emoji": '{"a": "😀"}', "empty": '{"a": ""}', "blank": '{"a": "  "}', "null": '{"a": null}',
    "true": '{"a": true}', "false": '{"a": false}', "integer": '{"a": 42}', "negative": '{"a": -7}',
    "zero": '{"a": 0}', "minus-zero": '{"a": -0}', "max-unsigned": '{"a": 18446744073709551615}',
    "too-big-integer": '{"a": 1234567890123456789012345}', "decimal": '{"a": 1.50}', "exponent": '{"a": 1e5}',
    "signed-exponent": '{"a": 1E+2}', "negative-float-zero": '{"a": -0.0}', "array": '{"a": [1, {"b": "x"}]}',
    "object": '{"a": {"b": [ ]}}', "empty-array": '{"a": []}', "absent": '{}', "space-before": '  {"a": "ws"}',
    "duplicate-key": '{"a": "first", "a": "second"}', "array-root": '[1]', "string-root": '"s"',
    "number-root": '12', "not-json": 'not json', "truncated": '{"a": "x"',
}
JSON_RULES = [common.Rule("a"), common.Rule("a", required=False), common.Rule("a", "int_pos"),
              common.Rule("a", "amount"), common.Rule("a", "enum", values=("plain", "0"))]


@pytest.mark.parametrize("line", JSON_LINES.values(), ids=JSON_LINES.keys())
def test_one_parse_json_fields_give_the_reasons_and_texts_of_json_type_and_extract(con, line):
    con.execute("CREATE TABLE lines AS SELECT ? AS x", [line])
    per_path = ("CASE WHEN json_valid(x) THEN CASE WHEN json_type(x) = 'OBJECT' THEN {} END END")
    old_type, old_text = per_path.format("json_type(x, '$.a')"), per_path.format("json_extract_string(x, '$.a')")
    reasons = lambda t, s: ", ".join(common.json_reason_sql(rule, t, s) for rule in JSON_RULES)  # noqa: E731
    old = con.execute(f"SELECT {per_path.format('true')} IS NOT NULL, {old_text}, {reasons(old_type, old_text)} "
                      "FROM lines").fetchone()
    new = con.execute(
        f"""SELECT j IS NOT NULL, s1, {reasons('t1', 's1')}
            FROM (SELECT j, {common.json_field_columns_sql('j', ['a'])}
                  FROM (SELECT {common.json_object_fields_sql('x', ['a'])} AS j FROM lines))""").fetchone()
    assert new == old
