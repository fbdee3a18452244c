"""`allywatch run` as a user runs it: its own emulator, a feed list, alerts on the console,
then Ctrl-C (SIGINT) stops everything it started and exits cleanly.

The poller, the pipeline and the emulator each have their own tests; this one checks the
lifecycle that only the real command has: the child emulator process is gone afterwards,
the run summary is printed, and the exit status is 0.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.feed_server import FeedServer
from tests.test_live_monitor import rss

pytestmark = pytest.mark.emulator

REPO = Path(__file__).resolve().parents[1]
STORY = ("s1", "UK to resume arms sales to Saudi Arabia", "Britain will resume weapons sales to Riyadh.")
OTHER = ("o1", "Heatwave grips southern Europe", "Temperatures passed 40C in Spain.")


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


class _Lines:
    """Collect a stream's lines in a thread so the test can wait for one without blocking."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
            time.sleep(0.2)
        return None

    def text(self) -> str:
        return "\n".join(self.lines)


def test_run_prints_alerts_and_ctrl_c_stops_everything_it_started(tmp_path):
    with FeedServer() as server:
        server.set("/one.xml", rss(STORY, OTHER))
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(
            f"- {{outlet: one, url: '{server.url('/one.xml')}'}}\n"
            f"- {{outlet: gone, url: '{server.url('/gone.xml')}'}}\n"
        )
        env = {k: v for k, v in os.environ.items() if k != "PUBSUB_EMULATOR_HOST"}
        env["ALLYWATCH_STATE_DIR"] = str(tmp_path / "state")
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "run", "--feeds", str(feeds),
             "--poll-interval", "2", "--update-debounce", "0"],
            cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        out, err = _Lines(proc.stdout), _Lines(proc.stderr)
        try:
            started = err.wait_for(r"started the local Pub/Sub emulator on ([\d.]+):(\d+)", 90)
            assert started, f"no emulator start line:\n{err.text()}"
            host, port = started.group(1), int(started.group(2))
            assert host == "127.0.0.1"
            alert = out.wait_for(r"\[new\] arms_transfer GBR\+SAU", 120)
            assert alert, f"no alert on the console:\n{out.text()}\n--- stderr ---\n{err.text()}"
            assert err.wait_for(r"feed gone .* failed: HTTP 404", 10), err.text()
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # the reader threads finish once the pipes close
        time.sleep(0.5)
    assert code == 0, err.text()
    assert "stopping" in err.text()
    assert re.search(r"items_sent=2\b", err.text()), err.text()
    assert "Heatwave" not in out.text()
    assert len([line for line in out.lines if "[new]" in line]) == 1
    deadline = time.monotonic() + 10
    while _port_open(host, port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _port_open(host, port), "the emulator `run` started is still listening after Ctrl-C"
