"""What a governance reviewer sees in the Dagster UI, checked in a real browser.

The small demo company of tests/test_operations.py (one run of the `daily_refresh` job) is
served by `dagster-webserver` on 127.0.0.1; Debian's chromium, headless and driven by
Selenium through Debian's chromedriver (no browser download), opens the asset graph, the
lineage of `marts/fct_leads`, its checks and its overview, and asserts the visible text: the
assets and groups, the GX and dbt checks with their status, the owners. The webserver's
GraphQL endpoint answers the same questions precisely (the DOM is a React app whose markup
changes between releases). Screenshots go to `.artifacts/screenshots/` (gitignored).

Without chromium the test skips, unless REQUIRE_BROWSER is set (CI sets it): then it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestration.settings import REPO_ROOT

CHROMIUM = Path(os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
SCREENSHOTS = REPO_ROOT / ".artifacts" / "screenshots"
WAIT_SECONDS = 60


def _browser_or_skip() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if not missing:
        return
    reason = f"no browser for the UI test: {', '.join(missing)} missing (apt-get install chromium chromium-driver)"
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(base: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload
    return payload["data"]


ASSET_QUERY = """
query Asset($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    __typename
    ... on AssetNode {
      groupName
      kinds
      description
      owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
      dependencyKeys { path }
      assetChecksOrError {
        ... on AssetChecks {
          checks { name blocking executionForLatestMaterialization { status evaluation { success } } }
        }
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    _browser_or_skip()
    from tests.test_operations import daily_run_demo

    demo = daily_run_demo()
    assert demo.result.success
    port = _free_port()
    log = tmp_path_factory.mktemp("webserver") / "webserver.log"
    command = [
        str(Path(sys.executable).parent / "dagster-webserver"),
        "--host", "127.0.0.1", "--port", str(port),
        "-m", "orchestration.definitions",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=demo.env(), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text()[-4000:]
            try:
                node = _graphql(base, ASSET_QUERY, {"path": ["marts", "fct_leads"]})["assetNodeOrError"]
                if node["__typename"] == "AssetNode":
                    break
            except (OSError, AssertionError, KeyError):
                pass
            assert time.monotonic() < deadline, "the webserver did not load the code location:\n" + log.read_text()[-4000:]
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1600,1000",
    ):
        options.add_argument(flag)
    # Debian's chromedriver, never Selenium Manager (which would download a driver)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _dismiss_welcome(driver) -> None:
    """A fresh browser profile gets Dagster's one-time community dialog over the page."""
    from selenium.webdriver.common.by import By

    for button in driver.find_elements(By.XPATH, "//div[@role='dialog']//button[normalize-space()='Skip']"):
        if button.is_displayed():
            button.click()


def _open(driver, url: str, *texts: str, screenshot: str) -> str:
    """Load a page, wait until every text is visible on it, save a screenshot; returns the
    page's visible text."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    path = SCREENSHOTS / f"{screenshot}.png"

    def visible(d):
        _dismiss_welcome(d)
        body = d.find_element(By.TAG_NAME, "body").text
        return body if all(t in body for t in texts) else False

    try:
        body = WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.5).until(visible)
    except TimeoutException:
        driver.save_screenshot(str(path))
        body = driver.find_element(By.TAG_NAME, "body").text
        missing = [t for t in texts if t not in body]
        pytest.fail(f"{url}: not shown after {WAIT_SECONDS} s: {missing}; screenshot {path}; page text:\n{body[:3000]}")
    time.sleep(1)  # let the graph finish its layout animation before the screenshot
    _dismiss_welcome(driver)
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return body


def test_reviewer_sees_assets_groups_checks_and_owners(webserver, browser):
    # 1. the whole asset graph, grouped: sources per system, layers, governance, published
    graph = _open(
        browser, f"{webserver}/asset-groups",
        "salesforce", "hubspot", "staging", "revenue_cycle", "marts", "governance", "published",
        screenshot="01_asset_graph",
    )
    assert "Asset lineage" in graph or "Lineage" in graph or "Assets" in graph

    # 2. the lineage of one mart: the models it is built from, and what it feeds (published)
    _open(
        browser,
        f"{webserver}/assets/marts/fct_leads?view=lineage&lineageScope=neighbors&lineageDepth=1",
        "fct_leads", "int_leads", "int_lead_scores", screenshot="02_fct_leads_lineage",
    )

    # 3. its checks: the Great Expectations suites and the dbt tests, every one succeeded
    node = _graphql(webserver, ASSET_QUERY, {"path": ["marts", "fct_leads"]})["assetNodeOrError"]
    names = sorted(c["name"] for c in node["assetChecksOrError"]["checks"])
    checks = _open(
        browser, f"{webserver}/assets/marts/fct_leads?view=checks",
        f"Checks ({len(names)})", "gx_fct_leads", "gx_lead_definition", "gx_scoring_mql", "gx_handover",
        "Succeeded", screenshot="03_fct_leads_checks",
    )
    assert checks.count("Succeeded") >= len(names), checks[:2000]
    assert "Failed" not in checks and "Not evaluated" not in checks

    # 4. its overview: group, owner, kinds, the jobs, sensor and schedules that build it
    overview = _open(
        browser, f"{webserver}/assets/marts/fct_leads",
        "Owners", "revenue_operations", "Group", "marts", "dbt", "DuckDB", "Great Expectations",
        "daily_refresh", "weekly_full_refresh", "landing_zone_sensor", screenshot="04_fct_leads_overview",
    )
    assert "Columns" in overview and "person_id" in overview

    # the same facts, precisely, from the webserver's GraphQL API
    node = _graphql(webserver, ASSET_QUERY, {"path": ["marts", "fct_leads"]})["assetNodeOrError"]
    assert node["groupName"] == "marts"
    assert {"team": "revenue_operations"} in node["owners"]
    assert {"dbt", "duckdb"} <= set(node["kinds"])
    assert node["description"]
    checks = {c["name"]: c for c in node["assetChecksOrError"]["checks"]}
    assert {"gx_fct_leads", "gx_lead_definition", "gx_scoring_mql", "gx_handover"} <= set(checks)
    assert any(name.startswith("unique_fct_leads") for name in checks)
    statuses = {name: (c["executionForLatestMaterialization"] or {}).get("status") for name, c in checks.items()}
    assert set(statuses.values()) == {"SUCCEEDED"}, statuses
    assert all(c["blocking"] for name, c in checks.items() if name.startswith("gx_"))

    raw = _graphql(webserver, ASSET_QUERY, {"path": ["raw", "salesforce", "lead"]})["assetNodeOrError"]
    assert raw["groupName"] == "salesforce" and {"team": "sales"} in raw["owners"]
    assert set(raw["kinds"]) == {"duckdb"}  # loaded by DuckDB's readers, the default engine
    published = _graphql(webserver, ASSET_QUERY, {"path": ["published", "fct_leads"]})["assetNodeOrError"]
    assert published["groupName"] == "published" and {"path": ["marts", "fct_leads"]} in published["dependencyKeys"]
