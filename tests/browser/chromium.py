"""Open a local HTML file in a real headless Chromium and see what it rendered and requested.

`render(path)` runs `chromium --headless=new --dump-dom` with a network log: the DOM after the
page loaded (as the browser built it, not the file as written) and every URL the page asked for
(requests from Chromium's own services, updates and the like, are told apart by their network
isolation key, which is the page's `file://` origin for the page's requests). Host names do not
resolve in the browser (`--host-resolver-rules`), so the tests never touch the network even when
a page is wrong; a wrong page's requests are still logged, which is what the tests assert on.

No browser: `chromium_or_skip()` skips with the reason, except in CI (`CI=true`), where it fails.
`make test` / `.ci/run` install Debian's chromium when running as root (see the Makefile).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND")


def find_chromium() -> str | None:
    explicit = os.environ.get("O2C_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def chromium_or_skip() -> str:
    found = find_chromium()
    if found:
        return found
    explicit = os.environ.get("O2C_CHROMIUM")
    missing = (f"O2C_CHROMIUM={explicit} does not exist" if explicit
               else "none of " + ", ".join(CANDIDATES) + " is on PATH")
    reason = (f"no headless browser: {missing} (set O2C_CHROMIUM, or `apt-get install chromium`; "
              "`make test` installs it when run as root)")
    if in_ci():
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@dataclass
class Rendered:
    dom: str
    requests: list[str]  # every network URL the page requested (its own file is not a network request)


def _page_requests(netlog: Path) -> list[str]:
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if event.get("type") == start_job and str(params.get("network_isolation_key", "")).startswith("file://"):
            urls.append(params["url"])
    return urls


def render(browser: str, page: Path, workdir: Path, *, screenshot: Path | None = None,
           timeout: int = 120) -> Rendered:
    workdir.mkdir(parents=True, exist_ok=True)
    netlog = workdir / "netlog.json"
    args = [browser, *FLAGS, f"--user-data-dir={workdir / 'profile'}", f"--log-net-log={netlog}"]
    args += [f"--screenshot={screenshot}", "--window-size=1280,2000"] if screenshot else ["--dump-dom"]
    out = subprocess.run([*args, page.resolve().as_uri()], capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"chromium exited {out.returncode}: {out.stderr[-2000:]}"
    if not screenshot:
        assert out.stdout.lstrip().lower().startswith("<!doctype html>") or "<html" in out.stdout[:500], \
            out.stdout[:500] + out.stderr[-2000:]
    return Rendered(out.stdout, _page_requests(netlog))
