"""The finance report and the validation results, opened in a real headless Chromium offline.

What is checked is what the browser built (the DOM after load) and what the page asked the
network for: nothing outside the file itself; the charts are inline SVG with marks; the
validation page lists every suite and expectation with its result row.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from lxml import html as lxml_html

from expectations import EXPECTATION_IDS, SUITE_NAMES
from orchestration.publish import PUBLISHED_FILE, publish
from orchestration.report import write_report
from tests.browser.chromium import chromium_or_skip, render
from tests.expectations.warehouse_fixture import build_warehouse
from tests.orchestration.test_publish import make_warehouse
from tests.orchestration.test_report import add_workbench_tables

REPO = Path(__file__).resolve().parents[2]
URL_ATTRIBUTES = ("src", "href", "xlink:href", "action", "formaction", "poster", "srcset", "data", "background")
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def browser() -> str:
    return chromium_or_skip()


def assert_offline(rendered, page: Path) -> lxml_html.HtmlElement:
    """The page requested nothing from the network; the DOM references no other host, loads no
    script or stylesheet file."""
    assert rendered.requests == [], rendered.requests
    doc = lxml_html.fromstring(rendered.dom)
    assert doc.xpath("//script") == [] and doc.xpath("//link[@rel='stylesheet']") == []
    outside = [(el.tag, name, value) for el in doc.iter() if isinstance(el.tag, str)
               for name, value in el.attrib.items()
               if name.split("}")[-1] in URL_ATTRIBUTES or name in URL_ATTRIBUTES
               if EXTERNAL.match(value)]
    assert outside == []
    for style in doc.xpath("//style/text()") + doc.xpath("//@style"):
        assert "@import" not in style and not re.search(r"url\(\s*['\"]?(https?:)?//", style)
    return doc


def test_the_check_sees_what_a_page_requests(browser, tmp_path):
    """The canary of `assert_offline`: a page that loads from CDNs (as the Data Docs do) is caught."""
    page = tmp_path / "cdn.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="stylesheet" href="https://cdn.example.invalid/x.css">'
                    '</head><body><img src="http://img.example.invalid/a.png"></body></html>', encoding="utf-8")
    rendered = render(browser, page, tmp_path / "chromium")
    assert set(rendered.requests) == {"https://cdn.example.invalid/x.css", "http://img.example.invalid/a.png"}
    with pytest.raises(AssertionError):
        assert_offline(rendered, page)


def test_report_renders_offline_with_its_charts(browser, tmp_path):
    wh = add_workbench_tables(make_warehouse(tmp_path / "warehouse.duckdb"))
    out = tmp_path / "published"
    publish(wh, out, run_id="run-browser", as_of="2026-11-15T00:00:00Z", check_summary={})
    page = write_report(out / PUBLISHED_FILE, out)

    rendered = render(browser, page, tmp_path / "chromium")
    doc = assert_offline(rendered, page)
    assert "o2c finance report — as of 2026-11-15 00:00:00 UTC" in doc.findtext(".//h1")
    charts = {"exceptions": 3, "queue": 0, "lifecycle": 2, "matching": 1, "ar-aging": 1, "cash": 1}
    for anchor, n_charts in charts.items():
        section = doc.get_element_by_id(anchor)
        svgs = section.xpath(".//*[local-name()='svg']")
        assert len(svgs) == n_charts, anchor
        for svg in svgs:  # real charts: marks drawn, axis labels written
            assert svg.xpath(".//*[local-name()='path' or local-name()='rect' or local-name()='line']")
            assert svg.xpath(".//*[local-name()='text']")
    # the result rows as the browser built them
    queue_rows = doc.get_element_by_id("queue").xpath(".//tbody/tr")
    assert len(queue_rows) == 20 and queue_rows[0].xpath("string(td[2])") == "Q01"
    lifecycle = [[td.text_content() for td in tr.xpath("td")]
                 for tr in doc.get_element_by_id("lifecycle").xpath("(.//table)[1]/tbody/tr")]
    assert lifecycle == [["2026-11-15 00:00:00", "1", "1", "3"], ["2026-11-10 00:00:00", "2", "1", "3"],
                         ["2026-11-05 00:00:00", "3", "0", "2"]]
    under = doc.get_element_by_id("matching").xpath(".//tr[@class='under']")
    assert [tr.xpath("string(td[1])") for tr in under] == ["2026-11-14"]

    shot = tmp_path / "report.png"
    render(browser, page, tmp_path / "chromium-shot", screenshot=shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_validation_results_render_offline(browser, tmp_path):
    """`make validate` on a warehouse with a blocking failure: o2c's page opens offline and shows
    every suite, every expectation and the failure with its observed value and keys."""
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("""update marts.ledger_entries set credit = credit + 1, credit_cny = credit_cny + 1
                       where entry_id = 'LE1' and line_no = 2""")
    docs = tmp_path / "validation_docs"
    out = subprocess.run([sys.executable, "-m", "expectations.validate", "--warehouse", str(warehouse),
                          "--docs-dir", str(docs)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    page = docs / "validation_results.html"
    assert str(page) in out.stdout

    rendered = render(browser, page, tmp_path / "chromium")
    doc = assert_offline(rendered, page)
    suites = doc.xpath("//section[@data-suite]")
    assert [s.get("data-suite") for s in suites] == list(SUITE_NAMES)
    rows = {tr.get("data-expectation"): tr for tr in doc.xpath("//tr[@data-expectation]")}
    assert set(rows) == set(EXPECTATION_IDS)
    failed = rows["ledger_entry_balances"]
    assert failed.get("data-status") == "FAIL" and failed.get("class") == "fail"
    cells = [td.text_content().strip() for td in failed.xpath("td")]
    assert cells[2] == "failure (blocking)" and cells[3] == "1" and cells[4] == "LE1"
    assert rows["ledger_entries_key_unique"].xpath("string(td[3])").strip() == "success"
    assert doc.get_element_by_id("blocking").text_content() == "2"
    assert "Publishing is blocked" in doc.text_content()
    # the Data Docs next to it are the ones that need a CDN: linked, not loaded
    assert (docs / "index.html").is_file() and doc.xpath("//a[@href='index.html']")
