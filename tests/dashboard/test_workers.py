"""The dashboard's run workers: started ahead of the first run, gone with the server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A stand-in for the server process: it starts the workers as a session does, then waits.
SERVER = (
    "from dashboard import backend\n"
    "backend.warm_up().join()\n"
    "print('ready', flush=True)\n"
    "import time\n"
    "time.sleep(600)\n"
)


def test_worker_processes_end_when_the_server_is_killed(descendants, running):
    """A server stopped by a signal (no clean-up code runs) leaves no process behind."""
    environment = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE
    )
    try:
        assert server.stdout.readline().strip() == b"ready"
        workers = descendants(server.pid)
        # The fork server, the manager and two workers (and the resource tracker).
        assert len(workers) >= 4, workers
        assert all(running(pid) for pid in workers)
    finally:
        server.kill()
        server.wait(timeout=10)
    deadline = time.time() + 30
    while (left := [pid for pid in workers if running(pid)]) and time.time() < deadline:
        time.sleep(0.2)
    assert not left, f"processes left after the server ended: {left}"
