"""Where the running local monitor's Pub/Sub emulator is, for the other commands to find.

`allywatch run` starts the emulator on a free port, so `subscribe`, `subscriptions`,
`unsubscribe` and `tail`, started later in another terminal, cannot guess the address.
`run` records it with `write_local_emulator` in a small JSON file and removes it with
`clear_local_emulator` when it stops; the other commands call `read_local_emulator`, which
ignores a record whose process is gone or whose emulator no longer answers (e.g. after
a crash), so a stale file never points a command at nothing.

The file is `$ALLYWATCH_STATE_DIR/emulator.json`, else `$XDG_CACHE_HOME/allywatch/emulator.json`,
else `~/.cache/allywatch/emulator.json`.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from connectors.emulator import EMULATOR_ENV, emulator_answers, emulator_environment
from connectors.pubsub_setup import DEFAULT_PROJECT

STATE_FILE_NAME = "emulator.json"


@dataclass(frozen=True)
class LocalEmulator:
    """A recorded emulator: its host:port, the project `run` uses, and the recording process."""

    address: str
    project: str
    pid: int
    started_at: str = ""


def state_dir() -> Path:
    override = os.environ.get("ALLYWATCH_STATE_DIR")
    if override:
        return Path(override)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "allywatch"


def state_file() -> Path:
    return state_dir() / STATE_FILE_NAME


def write_local_emulator(address: str, project: str, pid: int | None = None) -> Path:
    """Record the emulator `allywatch run` started; atomic, so readers never see half a file."""
    record = {
        "address": address,
        "project": project,
        "pid": os.getpid() if pid is None else pid,
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".emulator-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.replace(tmp, path)
    return path


def clear_local_emulator(pid: int | None = None) -> bool:
    """Remove the record if it was written by `pid` (default: this process). True if removed."""
    path = state_file()
    record = _load(path)
    if record is None or record.pid != (os.getpid() if pid is None else pid):
        return False
    path.unlink(missing_ok=True)
    return True


def read_local_emulator(check_alive: bool = True) -> LocalEmulator | None:
    """The recorded emulator if its process is alive and it answers; else None."""
    record = _load(state_file())
    if record is None:
        return None
    if check_alive and not (_process_alive(record.pid) and emulator_answers(record.address, timeout=2)):
        return None
    return record


def _load(path: Path) -> LocalEmulator | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LocalEmulator(
            address=str(data["address"]),
            project=str(data["project"]),
            pid=int(data["pid"]),
            started_at=str(data.get("started_at", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- which Pub/Sub a command talks to ------------------------------------------------


class NoPubSubError(RuntimeError):
    """No emulator is known and no Google Cloud project was named."""


@dataclass(frozen=True)
class PubSubTarget:
    """Where a command's Pub/Sub calls go."""

    project: str
    emulator: str | None  # host:port, or None for Google Cloud Pub/Sub
    how: str  # said to the user: how this target was chosen

    @property
    def is_emulator(self) -> bool:
        return self.emulator is not None


def resolve_target(project: str | None, default_project: str = DEFAULT_PROJECT) -> PubSubTarget:
    """Pick the Pub/Sub to use, in this order:

    1. PUBSUB_EMULATOR_HOST set: that emulator; project from --project, else the project
       `allywatch run` recorded for that emulator, else the default project.
    2. --project given: Google Cloud Pub/Sub in that project.
    3. an emulator recorded by a running `allywatch run`: it, and its project.
    Otherwise raise NoPubSubError saying the three ways to fix it.
    """
    env_host = os.environ.get(EMULATOR_ENV)
    if env_host:
        if project:
            return PubSubTarget(project, env_host, f"emulator at {env_host}, from {EMULATOR_ENV}")
        recorded = read_local_emulator()
        if recorded and recorded.address == env_host:
            return PubSubTarget(recorded.project, env_host, f"emulator at {env_host}, from {EMULATOR_ENV}")
        return PubSubTarget(default_project, env_host, f"emulator at {env_host}, from {EMULATOR_ENV}")
    if project:
        return PubSubTarget(project, None, f"Google Cloud Pub/Sub, project {project}")
    recorded = read_local_emulator()
    if recorded:
        return PubSubTarget(
            recorded.project, recorded.address, f"emulator at {recorded.address} started by `allywatch run`"
        )
    raise NoPubSubError(
        "no Pub/Sub to talk to. Either start the local monitor with `allywatch run` (it records its "
        f"emulator in {state_file()}), or set {EMULATOR_ENV}=127.0.0.1:PORT for a running emulator, "
        "or pass --project PROJECT to use Google Cloud Pub/Sub."
    )


@contextmanager
def using_target(target: PubSubTarget) -> Iterator[PubSubTarget]:
    """Point Google's Pub/Sub clients at the target for the duration (emulator or not)."""
    with emulator_environment(target.emulator):
        yield target
