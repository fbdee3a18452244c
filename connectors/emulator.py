"""Start and stop the real Google Cloud Pub/Sub emulator on a free loopback port.

`allywatch run` uses it when no Google Cloud project is configured, and the tests use it
wherever Pub/Sub behaviour matters. The emulator is a Java process; the `gcloud` wrapper
orphans that child when killed, so we start the emulator binary directly in its own
process group and stop the whole group.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

EMULATOR_ENV = "PUBSUB_EMULATOR_HOST"
_CANDIDATES = (
    "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator",
    "/usr/share/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator",
    "/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator",
)


class EmulatorError(RuntimeError):
    """The emulator could not be found or did not become ready."""


def find_emulator_binary() -> Path:
    """Locate `cloud-pubsub-emulator`; ALLYWATCH_PUBSUB_EMULATOR overrides the search."""
    override = os.environ.get("ALLYWATCH_PUBSUB_EMULATOR")
    candidates = [override] if override else []
    candidates += list(_CANDIDATES)
    gcloud = shutil.which("gcloud")
    if gcloud:
        sdk_root = Path(os.path.realpath(gcloud)).parent.parent
        candidates.append(str(sdk_root / "platform/pubsub-emulator/bin/cloud-pubsub-emulator"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise EmulatorError(
        "Pub/Sub emulator not found. Install the Google Cloud CLI component "
        "(`gcloud components install pubsub-emulator` or the Debian package "
        "google-cloud-cli-pubsub-emulator), or set ALLYWATCH_PUBSUB_EMULATOR to the "
        "cloud-pubsub-emulator binary, or pass --project to use real Pub/Sub."
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class PubSubEmulator:
    """A running emulator; use as a context manager or call start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, startup_timeout: float = 60.0):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the emulator only listens on loopback")
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._data_dir: tempfile.TemporaryDirectory[str] | None = None
        self._log_file = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> "PubSubEmulator":
        binary = find_emulator_binary()
        self._data_dir = tempfile.TemporaryDirectory(prefix="allywatch-pubsub-")
        log_path = Path(self._data_dir.name) / "emulator.log"
        try:  # whatever goes wrong (even Ctrl-C), no emulator, temp dir or log file is left behind
            self._log_file = open(log_path, "wb")
            self._process = subprocess.Popen(
                [str(binary), f"--host={self.host}", f"--port={self.port}"],
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # own process group: stop() kills Java and wrapper alike
                cwd=self._data_dir.name,
            )
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    output = log_path.read_text(errors="replace")[-2000:]
                    raise EmulatorError(f"Pub/Sub emulator exited at start-up:\n{output}")
                if emulator_answers(self.address):
                    log.info("Pub/Sub emulator ready on %s", self.address)
                    return self
                time.sleep(0.2)
            raise EmulatorError(f"Pub/Sub emulator not ready on {self.address} after {self.startup_timeout:.0f}s")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._data_dir is not None:
            self._data_dir.cleanup()
            self._data_dir = None

    def __enter__(self) -> "PubSubEmulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def emulator_answers(address: str, timeout: float = 1.0) -> bool:
    """True when a Pub/Sub emulator answers at host:port."""
    try:
        with urllib.request.urlopen(f"http://{address}/", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


@contextmanager
def emulator_environment(address: str | None) -> Iterator[None]:
    """Point Google's Pub/Sub clients (and Beam's) at the emulator for the duration;
    `None` points them at Google Cloud Pub/Sub even if the variable is set."""
    previous = os.environ.get(EMULATOR_ENV)
    if address:
        os.environ[EMULATOR_ENV] = address
    else:
        os.environ.pop(EMULATOR_ENV, None)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(EMULATOR_ENV, None)
        else:
            os.environ[EMULATOR_ENV] = previous
