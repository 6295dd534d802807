"""Interaction speed of the dashboard in Chromium: a scenario run, page switches, area changes.

Starts ``osloregion dashboard`` (its baseline is stored first), then times in a real browser:
the first page, every page switch (click to the page's content being visible), changing the
area on the Indeks page, and a scenario run at dashboard scale from the Run button to the
stored result. Results go to ``benchmarks/out/dashboard.json``.

    .venv/bin/python benchmarks/bench_dashboard.py --runs-dir /tmp/bench-dashboard
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Each page and a text that appears when it is drawn: on pages with charts, a chart title that
# plotly draws (in SVG) only once the figure is in the browser.
PAGES = (
    ("compare", "Scenarioer å sammenligne"),
    ("indeks", "Kraftbehov til veitrafikk"),
    ("climate", "Veitrafikk etter kjøretøyklasse"),
    ("workshop", "Fire fremtider"),
    ("model", "Befolkning per kommune"),
    ("", "Velg scenario"),
)
# Changing the area or municipality on a page: (result, page, menu, option, new heading).
SWITCHES = (
    ("indeks_to_subregion_s", "indeks", ".area-select", "Delregion: Follo", "Delregion: Follo"),
    ("indeks_to_municipality_s", "indeks", ".area-select", "Aremark (3124)", "Aremark (3124)"),
    ("climate_to_municipality_s", "climate", ".municipality-select", "Asker (3203)", "Asker: Gap"),
)


def wait_for_server(url: str, process: subprocess.Popen, seconds: float = 300) -> None:
    """Poll until the server answers."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the dashboard exited")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError("the dashboard did not start")


def main() -> None:
    """Time the interactions and write them as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs-dir", type=Path, default=Path("/tmp/bench-dashboard"))
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}/"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "scenarios.cli", "dashboard", "--runs-dir", str(args.runs_dir)]
        + ["--port", str(args.port)],
        cwd=PROJECT_ROOT,
    )
    results: dict[str, float] = {}
    try:
        wait_for_server(url, process)
        results["start_with_baseline_s"] = time.perf_counter() - started
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            t0 = time.perf_counter()
            page.goto(url)
            page.get_by_text("Velg scenario").first.wait_for()
            results["first_page_s"] = time.perf_counter() - t0
            for path, expected in PAGES:
                t0 = time.perf_counter()
                page.locator(f".nav-{path or 'scenario'}").first.click()
                page.get_by_text(expected).first.wait_for()
                results[f"switch_to_{path or 'scenario'}_s"] = time.perf_counter() - t0
            for name, path, menu, option, expected in SWITCHES:
                page.locator(f".nav-{path}").first.click()
                page.locator(".scatterlayer .point").first.wait_for()
                t0 = time.perf_counter()
                page.locator(menu).click()
                page.get_by_role("option", name=option).click()
                page.locator("h3", has_text=expected).first.wait_for()  # the heading
                page.locator(".scatterlayer .point").first.wait_for()
                results[name] = time.perf_counter() - t0
            page.locator(".nav-scenario").first.click()
            t0 = time.perf_counter()
            field = page.get_by_label("Veiprising (kr per kjørte bil-km)")
            field.fill("0.7")
            field.press("Enter")
            page.locator(".run-button").click()
            page.get_by_text("Ferdig:").first.wait_for()
            results["scenario_run_2024_2050_s"] = time.perf_counter() - t0
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    out = PROJECT_ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "dashboard.json").write_text(json.dumps(results, indent=2) + "\n")
    for name, seconds in results.items():
        print(f"{name:<28}{seconds:8.2f}")


if __name__ == "__main__":
    main()
