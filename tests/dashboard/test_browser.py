"""The dashboard in a real browser: started as a user starts it, looked at as a user looks.

``osloregion dashboard`` runs in a subprocess on a free port with its own runs folder and a
short horizon (``OSLOREGION_DASHBOARD_END``); Debian's chromium (installed by ``.ci/run``)
drives it through Playwright. Screenshots of every page go to ``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="no chromium (CI installs it)"
)
PAGES = {
    "": "Velg scenario",
    "compare": "Scenarioer å sammenligne",
    "indeks": "Befolkning",
    "climate": "Kommune",
    "workshop": "Fire fremtider",
    "model": "Datakilder",
}
BAD_TOML = 'name = "bad"\n[transport]\nroad_price_nok_per_km = 50\n'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``osloregion dashboard`` on a free port; its URL. Stops it afterwards."""
    runs_dir = tmp_path_factory.mktemp("dashboard_runs")
    port = free_port()
    environment = dict(os.environ, OSLOREGION_DASHBOARD_END="2026")
    log = open(runs_dir / "server.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "scenarios.cli", "dashboard", "--runs-dir", str(runs_dir)]
        + ["--port", str(port)],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 240
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError((runs_dir / "server.log").read_text())
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        process.kill()
        raise RuntimeError("dashboard did not start:\n" + (runs_dir / "server.log").read_text())
    yield url, runs_dir, process.pid
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    yield page
    page.close()


def open_page(page, url: str, path: str, expected: str) -> None:
    page.goto(url + path)
    page.get_by_text(expected).first.wait_for()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens_with_its_content(server, page, path: str):
    url, *_ = server
    open_page(page, url, path, PAGES[path])
    assert "Osloregionen: scenarioer" in page.inner_text("body")
    if path == "indeks":  # the baseline was stored at start: the series have points
        page.locator(".scatterlayer .point").first.wait_for()
        assert page.locator(".scatterlayer .point").count() >= 10 * 3
    screenshot(page, f"page-{path or 'scenario'}")


def test_pages_ask_nothing_of_the_internet(server, page):
    """Every request of every page goes to the dashboard's server, and the server fetches
    nothing from a CDN for them (Solara would fetch a missing front-end file)."""
    url, runs_dir, _ = server
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    for path, expected in PAGES.items():
        open_page(page, url, path, expected)
    page.get_by_text("Datakilder").first.wait_for()
    page.wait_for_load_state("networkidle")
    outside = [r for r in requests if not r.startswith((url, "data:", "blob:"))]
    assert not outside, outside[:5]
    log = (runs_dir / "server.log").read_text()
    assert "Could not load URL" not in log and "cdn.jsdelivr" not in log


def test_language_switch_changes_the_labels(server, page):
    url, *_ = server
    open_page(page, url, "", "Velg scenario")
    page.locator(".language-switch").click()
    page.get_by_text("Choose a scenario").first.wait_for()
    body = page.inner_text("body")
    assert "COMPARE" in body.upper() and "Velg scenario" not in body


def test_a_scenario_runs_with_progress_and_is_stored(server, page):
    url, runs_dir, _ = server
    open_page(page, url, "", "Velg scenario")
    field = page.get_by_label("Veiprising (kr per kjørte bil-km)")
    field.fill("1.5")
    field.press("Enter")
    page.locator(".run-button").click()
    page.get_by_text("Ferdig:").first.wait_for(timeout=120_000)
    manifests = [p.read_text() for p in runs_dir.glob("*/manifest.json")]
    assert any('"road_price_nok_per_km": 1.5' in text for text in manifests)
    screenshot(page, "scenario-run")


def test_an_invalid_uploaded_scenario_shows_the_field(server, page):
    url, *_ = server
    open_page(page, url, "", "Velg scenario")
    # A dropped file as the browser hands it over. Headless Chromium gives synthetic drops no
    # file-system entry, so webkitGetAsEntry (which Solara's drop zone calls) is shimmed to
    # return the file; the upload then takes Solara's real path to the server.
    transfer = page.evaluate_handle(
        """(text) => {
            const file = new File([text], 'bad.toml', {type: 'text/plain'});
            const data = new DataTransfer();
            data.items.add(file);
            DataTransferItem.prototype.webkitGetAsEntry = function () {
                const dropped = this.getAsFile();
                return {isFile: true, file: (resolve) => resolve(dropped)};
            };
            return data;
        }""",
        BAD_TOML,
    )
    page.get_by_text("Slipp en scenariofil").first.dispatch_event(
        "drop", {"dataTransfer": transfer}
    )
    error = page.locator(".file-error")
    error.wait_for()
    message = error.inner_text()
    assert "transport.road_price_nok_per_km" in message and "line 3" in message
    assert "bad.toml" in message
    screenshot(page, "scenario-invalid-upload")


def test_compare_shows_maps_bands_cells_and_a_scorecard_with_an_effect(server, page):
    """Road pricing against the baseline: municipality and 1 km cell maps for both columns,
    bands with points, and a scorecard in which car driving gets a score."""
    url, *_ = server
    open_page(page, url, "compare", "Scenarioer å sammenligne")
    page.locator(".v-select").first.click()
    page.get_by_role("option", name="road_pricing").click()
    page.get_by_role("option", name="ringeriksbanen").click()  # chosen by default: drop it
    page.keyboard.press("Escape")
    page.locator(".compare-button").click()
    page.locator(".compare-column").nth(1).wait_for(timeout=240_000)
    assert page.locator(".compare-column").count() == 2  # the baseline and road_pricing
    polygons = page.locator(".compare-column .scatterlayer path.js-fill")
    polygons.first.wait_for()
    assert polygons.count() >= 2 * 60  # one polygon per municipality, in both columns
    assert page.locator(".scatterlayer .point").count() >= 3  # the series have points
    rows = page.locator(".compare-column table tbody tr")
    assert rows.count() >= 10  # the scorecard's headline rows
    car = rows.filter(has_text="Bilkjøring, arbeidsreiser").first.inner_text()
    assert car.split()[-1] in ("+", "++", "+++"), car  # less car driving is better
    screenshot(page, "compare")
    page.get_by_text("1 km-ruter").first.click()
    cells = page.locator(".compare-column .heatmaplayer image")
    cells.nth(1).wait_for()
    assert cells.count() == 2  # a cell map in each column
    page.get_by_text("Nivå").first.click()
    page.get_by_text("Befolkning per km²").nth(1).wait_for()
    screenshot(page, "compare-cells")


def test_indeks_shows_a_subregion(server, page):
    url, *_ = server
    open_page(page, url, "indeks", "Befolkning")
    page.locator(".area-select").click()
    page.get_by_role("option", name="Delregion: Follo").click()
    page.get_by_text("Delregion: Follo").nth(1).wait_for()  # the menu and the heading
    page.get_by_text("Reisemiddelfordeling").first.wait_for()
    assert page.locator(".scatterlayer .point").count() >= 11 * 3
    screenshot(page, "indeks-follo")


def test_model_page_shows_the_fit_to_ssb(server, page):
    url, *_ = server
    open_page(page, url, "model", "Hvor godt modellen treffer statistikken")
    page.get_by_text("kommuner ligger innenfor 10 %").first.wait_for()
    page.get_by_text("Befolkning per kommune").first.wait_for()  # plotly draws the title
    assert page.locator(".scatterlayer .point").count() >= 65  # one point per municipality


def test_a_crashed_run_shows_an_error_and_stores_nothing(server, page, descendants):
    """The worker processes are killed in the middle of a run: the page says so, nothing
    is stored, the server goes on serving, and the next run works."""
    url, runs_dir, pid = server
    before = {p.name for p in runs_dir.iterdir()}
    open_page(page, url, "", "Velg scenario")
    field = page.get_by_label("Kollektivtakster (ganger dagens takster)")
    field.fill("0.77")
    field.press("Enter")
    page.locator(".run-button").click()
    page.get_by_text("Kjører").first.wait_for()
    deadline = time.time() + 30  # the fork server, the manager and the workers
    while len(killed := descendants(pid)) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert len(killed) >= 3, killed
    for child in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    error = page.locator(".run-error")
    error.wait_for(timeout=60_000)
    assert "ingenting ble lagret" in error.inner_text()
    screenshot(page, "scenario-crashed")
    after = {p.name for p in runs_dir.iterdir()}
    new = {name for name in after - before if not name.startswith(".dashboard")}
    assert not new, new  # no run folder, no half-written staging folder
    manifests = [p.read_text() for p in runs_dir.glob("*/manifest.json")]
    assert not any('"pt_fare_factor": 0.77' in text for text in manifests)
    page.locator(".nav-model").first.click()  # the server still serves
    page.get_by_text("Datakilder").first.wait_for(timeout=10_000)
    page.locator(".nav-scenario").first.click()
    page.locator(".run-button").click()  # and runs again
    page.get_by_text("Ferdig:").first.wait_for(timeout=120_000)


def test_two_sessions_keep_their_own_work_and_a_run_does_not_block_the_other(server, browser):
    """Session A edits a lever and starts a run; session B still has the default and can
    move between pages while A's run is going."""
    url, *_ = server
    first, second = browser.new_context(), browser.new_context()
    try:
        a, b = first.new_page(), second.new_page()
        for page in (a, b):
            page.set_default_timeout(60_000)
            open_page(page, url, "", "Velg scenario")
        label = "Flyktninger bosatt per år (husholdninger per år)"
        field = a.get_by_label(label)
        field.fill("1234")
        field.press("Enter")
        a.locator(".run-button").click()
        a.get_by_text("Kjører").first.wait_for()
        assert b.get_by_label(label).input_value() in ("1000", "1000.0")
        started = time.perf_counter()
        b.locator(".nav-model").first.click()
        b.get_by_text("Datakilder").first.wait_for(timeout=10_000)
        assert time.perf_counter() - started < 10
        a.get_by_text("Ferdig:").first.wait_for(timeout=120_000)
    finally:
        first.close()
        second.close()


def test_workshop_runs_a_future_and_exports_png_csv_and_the_scenario(server, page):
    """A group chooses a future, runs it and takes away the table (CSV), the scenario
    (TOML) and the figure (PNG, plotly's camera button)."""
    url, *_ = server
    open_page(page, url, "workshop", "Fire fremtider")
    page.get_by_text("Velg denne fremtiden").first.click()
    page.locator(".run-button").click()
    page.get_by_text("Ferdig:").first.wait_for(timeout=120_000)
    page.get_by_text("Last ned tabell (CSV)").first.wait_for()
    with page.expect_download() as csv_file:
        page.get_by_text("Last ned tabell (CSV)").first.click()
    table = pd.read_csv(csv_file.value.path())
    assert len(table) >= 10 and {"scenario", "Δ %"} <= set(table.columns)
    with page.expect_download() as toml_file:
        page.get_by_text("Last ned scenariofil (TOML)").first.click()
    scenario = tomllib.loads(Path(toml_file.value.path()).read_text(encoding="utf-8"))
    assert scenario["name"] and scenario["extends"]
    chart = page.locator(".osloregion-chart").last
    chart.locator(".scatterlayer .point").first.wait_for()
    chart.hover()
    with page.expect_download() as png_file:
        chart.locator(".modebar-btn[data-title='Download plot as a PNG']").click()
    assert Path(png_file.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    screenshot(page, "workshop-result")
