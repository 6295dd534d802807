"""``osloregion dashboard``: make sure the baseline is stored, then start the Solara app.

The first page is never empty: the baseline at dashboard scale is found among the stored
runs or computed first (with progress in the terminal). The app runs offline: Solara's
assets come from the ``solara-assets`` package and telemetry is switched off.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from dashboard.backend import request, settings
from dashboard.chart import ASSETS_DIR
from scenarios.runner import find_or_run
from scenarios.scenario import BASELINE

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CDN_DIR = Path(__file__).resolve().parent / "cdn"


def ensure_baseline(runs_dir: Path, progress: Callable[[str, int, int], None] | None) -> str:
    """The stored baseline run at dashboard scale (run now if there is none); its id."""
    run, _ = find_or_run(request(BASELINE), runs_dir, progress)
    return run.run_id


def install_cdn_files(cache_dir: Path | None = None) -> None:
    """Copy the front-end files that ``solara-assets`` lacks into Solara's asset cache.

    Solara fetches a missing file from cdn.jsdelivr.net; offline that fails (KaTeX, which
    its Markdown loads on every page). ``dashboard/cdn`` ships them; see its README.
    """
    if cache_dir is None:
        from solara.server import settings as solara_settings

        cache_dir = solara_settings.assets.proxy_cache_dir
    for source in CDN_DIR.rglob("*"):
        target = cache_dir / source.relative_to(CDN_DIR)
        if source.is_file() and source.name != "README.md" and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.with_name(target.name + ".incomplete")
            shutil.copyfile(source, staging)
            staging.rename(target)  # a reader never sees half a file


def server_command(host: str, port: int) -> list[str]:
    """The command that serves the app."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "dashboard.app",
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
        "--production",
    ]


def server_environment(runs_dir: Path) -> dict[str, str]:
    """The environment of the server: offline, and where the runs are."""
    environment = dict(os.environ)
    environment["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    # plotly.js for the charts (dashboard/chart.py), served from dashboard/assets.
    environment["SOLARA_ASSETS_EXTRA_LOCATIONS"] = str(ASSETS_DIR)
    environment["OSLOREGION_RUNS_DIR"] = str(runs_dir.resolve())
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    return environment


def serve(
    runs_dir: Path,
    host: str | None = None,
    port: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> int:
    """Store the baseline if needed, then become the dashboard's server until stopped."""
    config = settings()
    host, port = host or config.host, port or config.port
    run_id = ensure_baseline(runs_dir, progress)
    install_cdn_files()
    print(f"baseline: {run_id}", file=sys.stderr)
    print(f"dashboard: http://{host}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    sys.stderr.flush()
    command = server_command(host, port)
    # The server replaces this process, so stopping it (Ctrl-C, a signal) stops the server.
    os.execve(command[0], command, server_environment(runs_dir))
    return 0  # not reached
