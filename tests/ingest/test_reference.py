"""FX rates loader: every reject reason, and the undated folder layout."""
from __future__ import annotations

import pytest

from tests.ingest.helpers import assert_identity, ingest, rejects, write

HEADER = "date,currency,rate_to_cny"

CASES = [
    ("too-many-fields", "2026-11-03,USD,7.1,x", "malformed_record"),
    ("empty-date", ",USD,7.1", "missing_field:date"),
    ("empty-currency", "2026-11-03,,7.1", "missing_field:currency"),
    ("empty-rate", "2026-11-03,USD,", "missing_field:rate_to_cny"),
    ("date-bad", "03/11/2026,USD,7.1", "invalid_value:date"),
    ("currency-bad", "2026-11-03,US Dollar,7.1", "invalid_value:currency"),
    ("rate-negative", "2026-11-03,USD,-7.1", "invalid_value:rate_to_cny"),
    ("rate-zero", "2026-11-03,USD,0", "invalid_value:rate_to_cny"),
    ("rate-unparseable", "2026-11-03,USD,seven", "invalid_value:rate_to_cny"),
]


@pytest.mark.parametrize("bad_row, reason", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_invalid_rate_is_quarantined(con, landing, bad_row, reason):
    write(landing, "reference/fx_rates/fx.csv", f"{HEADER}\n2026-11-01,USD,7.1032\n{bad_row}\n")
    ingest(con, landing, "reference/fx_rates")
    assert rejects(con) == [("reference/fx_rates/fx.csv", 2, reason, bad_row)]
    assert con.execute("SELECT date, currency, rate_to_cny, _export_date FROM raw.reference_fx_rates").fetchall() == [
        ("2026-11-01", "USD", "7.1032", None)]
    assert_identity(con)


def test_rates_keep_all_decimals_and_header_is_checked(con, landing):
    write(landing, "reference/fx_rates/a.csv", "day,currency,rate\n2026-11-01,USD,7.1\n")
    write(landing, "reference/fx_rates/b.csv", f"{HEADER}\n2026-11-01,USD,7.103245\n2026-11-01,CNY,1\n")
    summary = ingest(con, landing, "reference/fx_rates")
    assert [f.status for f in summary.files] == ["malformed_file", "loaded"]
    assert con.execute("SELECT rate_to_cny FROM raw.reference_fx_rates ORDER BY _record_no").fetchall() == [
        ("7.103245",), ("1",)]
    assert_identity(con)
