"""ERP invoice loader: every reject reason, sign rules, record numbers, malformed XML."""
from __future__ import annotations

import pytest

from tests.ingest.helpers import assert_identity, count, ingest, rejects, write

FIELDS = {"InvoiceId": "INV-1", "InvoiceNo": "26312000000000000001", "Type": "normal", "Status": "issued",
          "IssuedAt": "2026-11-02T17:00:00+08:00", "Currency": "CNY", "BuyerId": "C000101"}
LINES = [("SO20261101000001", "257.43", "33.47"), ("SO20261101000002", "100.00", "13.00")]
DROP = None


def invoice(lines=LINES, original: str | None = None, **changes) -> str:
    """One <Invoice> element; a field changed to DROP is left out, to '' is present but empty."""
    values = FIELDS | changes
    parts = [f"<{k}>{v}</{k}>" for k, v in values.items() if v is not DROP]
    if original is not None:
        parts.append(f"<OriginalInvoiceId>{original}</OriginalInvoiceId>")
    if lines is not DROP:
        parts.append("<Lines>" + "".join(
            "<Line>" + "".join(f"<{k}>{v}</{k}>" for k, v in zip(("OrderId", "NetAmount", "TaxAmount"), line) if v is not DROP)
            + "</Line>" for line in lines) + "</Lines>")
    return "<Invoice>" + "".join(parts) + "</Invoice>"


def batch(*invoices: str) -> str:
    body = "\n  ".join(invoices)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<InvoiceBatch exportedAt="2026-11-02T23:00:00+08:00">\n  {body}\n</InvoiceBatch>\n'


CREDIT = dict(InvoiceId="CN-1", Type="credit_note", original="INV-0",
              lines=[("SO20261101000001", "-257.43", "-33.47")])

CASES = [
    *[(f"absent-{f}", invoice(**{f: DROP}), f"missing_field:{f}") for f in FIELDS],
    *[(f"empty-{f}", invoice(**{f: ""}), f"missing_field:{f}") for f in ("InvoiceId", "BuyerId", "Currency")],
    ("InvoiceNo-19-digits", invoice(InvoiceNo="2631200000000000001"), "invalid_value:InvoiceNo"),
    ("InvoiceNo-letters", invoice(InvoiceNo="2631200000000000000A"), "invalid_value:InvoiceNo"),
    ("Type-unknown", invoice(Type="proforma"), "invalid_value:Type"),
    ("Status-unknown", invoice(Status="draft"), "invalid_value:Status"),
    ("IssuedAt-no-offset", invoice(IssuedAt="2026-11-02T17:00:00"), "invalid_value:IssuedAt"),
    ("Currency-bad", invoice(Currency="RMB¥"), "invalid_value:Currency"),
    ("credit-note-without-original", invoice(**(CREDIT | {"original": None})), "missing_field:OriginalInvoiceId"),
    ("no-Lines", invoice(lines=DROP), "missing_field:Lines"),
    ("empty-Lines", invoice(lines=[]), "missing_field:Lines"),
    ("line-no-OrderId", invoice(lines=[LINES[0], (DROP, "1.00", "0.13")]), "missing_field:OrderId"),
    ("line-empty-NetAmount", invoice(lines=[("SO1", "", "0.13")]), "missing_field:NetAmount"),
    ("line-no-TaxAmount", invoice(lines=[("SO1", "1.00", DROP)]), "missing_field:TaxAmount"),
    ("line-NetAmount-3-decimals", invoice(lines=[("SO1", "1.001", "0.13")]), "invalid_value:NetAmount"),
    ("line-NetAmount-thousands", invoice(lines=[("SO1", "1,000.00", "0.13")]), "invalid_value:NetAmount"),
    ("normal-negative-NetAmount", invoice(lines=[("SO1", "-1.00", "0.13")]), "invalid_value:NetAmount"),
    ("normal-signed-TaxAmount", invoice(lines=[("SO1", "1.00", "+0.13")]), "invalid_value:TaxAmount"),
    ("credit-note-positive-NetAmount", invoice(**(CREDIT | {"lines": [("SO1", "257.43", "-33.47")]})), "invalid_value:NetAmount"),
    ("credit-note-positive-TaxAmount", invoice(**(CREDIT | {"lines": [("SO1", "-257.43", "33.47")]})), "invalid_value:TaxAmount"),
    ("first-failing-field-wins", invoice(Type="proforma", lines=[]), "invalid_value:Type"),
]


@pytest.mark.parametrize("bad_invoice, reason", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_invalid_invoice_is_quarantined_whole(con, landing, bad_invoice, reason):
    good = invoice(InvoiceId="INV-0")
    write(landing, "erp/invoices/2026-11-02/invoices.xml", batch(good, bad_invoice))
    ingest(con, landing, "erp/invoices")
    assert rejects(con) == [("erp/invoices/2026-11-02/invoices.xml", 2, reason, bad_invoice)]
    assert con.execute('SELECT "InvoiceId" FROM raw.erp_invoices').fetchall() == [("INV-0",)]
    assert con.execute('SELECT DISTINCT "InvoiceId" FROM raw.erp_invoice_lines').fetchall() == [("INV-0",)]
    assert_identity(con)


def test_invoices_and_credit_notes_are_loaded_with_lines(con, landing):
    write(landing, "erp/invoices/2026-11-02/invoices.xml",
          batch(invoice(), "<Comment>not an invoice</Comment>", invoice(**CREDIT), invoice(Status="voided")))
    ingest(con, landing, "erp/invoices")
    assert rejects(con) == []
    assert con.execute(
        'SELECT "InvoiceId", "Type", "Status", "OriginalInvoiceId", _record_no FROM raw.erp_invoices ORDER BY _record_no'
    ).fetchall() == [("INV-1", "normal", "issued", None, 1), ("CN-1", "credit_note", "issued", "INV-0", 2),
                     ("INV-1", "normal", "voided", None, 3)]
    assert con.execute(
        """SELECT "InvoiceId", line_no, "OrderId", "NetAmount", "TaxAmount" FROM raw.erp_invoice_lines
           WHERE _record_no <= 2 ORDER BY _record_no, line_no"""
    ).fetchall() == [("INV-1", "1", "SO20261101000001", "257.43", "33.47"),
                     ("INV-1", "2", "SO20261101000002", "100.00", "13.00"),
                     ("CN-1", "1", "SO20261101000001", "-257.43", "-33.47")]


@pytest.mark.parametrize("content", [
    batch(invoice()).replace("</InvoiceBatch>", ""),
    "<InvoiceBatch><Invoice><InvoiceId>INV-1</Invoice></InvoiceBatch>",
    "",
    "<Invoices>" + invoice() + "</Invoices>",
    batch(invoice()).encode("utf-8").replace(b"C000101", b"C\xff\xfe"),
], ids=["unclosed-root", "mismatched-tags", "empty-file", "wrong-root", "undecodable-bytes"])
def test_malformed_xml_is_one_reject_and_other_files_still_load(con, landing, content):
    write(landing, "erp/invoices/2026-11-02/a_bad.xml", content)
    write(landing, "erp/invoices/2026-11-02/b_good.xml", batch(invoice()))
    summary = ingest(con, landing, "erp/invoices")
    assert [r[:3] for r in rejects(con)] == [("erp/invoices/2026-11-02/a_bad.xml", 0, "malformed_file")]
    assert [f.status for f in summary.files] == ["malformed_file", "loaded"]
    assert count(con, "raw.erp_invoices") == 1
    assert_identity(con)


# The flattened (XSLT) reader must give exactly what the element-by-element reader gives, and
# decline the files it cannot flatten faithfully.
PARITY_CASES = {
    "plain": (batch(invoice(), invoice(**CREDIT), invoice(lines=[])), True),
    "cdata": (batch(invoice(BuyerId="<![CDATA[C<1>&]]>")), False),  # raw texts cannot be cut safely
    "predefined-entities": (batch(invoice(BuyerId="C&amp;1&lt;&quot;")), True),
    "whitespace-kept": (batch(invoice(BuyerId="  C1 \n ", InvoiceId=" ")), True),
    "empty-and-absent": (batch(invoice(BuyerId="", Currency=DROP, lines=[("SO1", "", DROP)])), True),
    "attributes-and-crlf": (batch(invoice()).replace("<Type>", '<Type lang="en">').replace("\n", "\r\n"), True),
    "repeated-field-first-wins": (batch(invoice().replace("<Type>normal</Type>", "<Type>normal</Type><Type>x</Type>")), True),
    "second-Lines-ignored": (batch(invoice().replace("</Lines>", "</Lines><Lines><Line><OrderId>X</OrderId></Line></Lines>")), True),
    "not-an-invoice-between": (batch(invoice(), "<Note><Type>x</Type></Note>", invoice(InvoiceId="INV-2")), True),
    "comment-in-field": (batch(invoice(BuyerId="C<!-- x -->1")), False),
    "element-in-field": (batch(invoice(lines=[("SO<b>x</b>1", "1.00", "0.13")])), False),
    "character-reference": (batch(invoice(BuyerId="C&#49;")), False),
}


@pytest.mark.parametrize("content, flattened", PARITY_CASES.values(), ids=PARITY_CASES.keys())
def test_flattened_reader_equals_element_reader(con, tmp_path, content, flattened):
    from ingest.erp.loader import _read_invoices_flattened, _register_frame, read_invoice_elements

    path = tmp_path / "invoices.xml"
    path.write_bytes(content.encode("utf-8"))
    records = _read_invoices_flattened(con, path, "fast_text", "fast_lines")
    assert (records is not None) == flattened
    invoices, lines = read_invoice_elements(path)
    _register_frame(con, "invoice_frame", invoices, "slow_text")
    _register_frame(con, "line_frame", lines, "slow_lines")
    if flattened:
        assert records == len(invoices["record_no"])
        for fast, slow in (("fast_text", "slow_text"), ("fast_lines", "slow_lines")):
            assert con.execute(f"SELECT * FROM {fast} ORDER BY ALL").fetchall() == \
                con.execute(f"SELECT * FROM {slow} ORDER BY ALL").fetchall()
            assert [c[0] for c in con.execute(f"DESCRIBE {fast}").fetchall()] == \
                [c[0] for c in con.execute(f"DESCRIBE {slow}").fetchall()]
