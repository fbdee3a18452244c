"""Shared test fixtures: where the shared data lives, and a real Pub/Sub emulator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ALLYWATCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The team's shared corpus, read in place; skips the test, saying where it looked, if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"shared data not found at {SHARED_DATA} (expected ../shared/data beside the repo, "
            "or set ALLYWATCH_SHARED_DATA)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def pubsub_emulator():
    """A real Pub/Sub emulator on a free 127.0.0.1 port, stopped after the session.

    Sets PUBSUB_EMULATOR_HOST for the whole session so Google's clients and Beam's
    Pub/Sub I/O talk to it.
    """
    from connectors.emulator import EmulatorError, PubSubEmulator, emulator_environment

    emulator = PubSubEmulator()
    try:
        emulator.start()
    except EmulatorError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Pub/Sub emulator unavailable: {exc}")
    try:
        with emulator_environment(emulator.address):
            yield emulator
    finally:
        emulator.stop()
