"""The subscribe / subscriptions / unsubscribe / tail commands: help, advice on errors, and finding Pub/Sub."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import uuid

import pytest

from connectors import local_state
from connectors.local_state import (
    NoPubSubError,
    clear_local_emulator,
    read_local_emulator,
    resolve_target,
    write_local_emulator,
)
from pipelines.commands import subscribe as subscribe_command
from pipelines.commands import tail as tail_command

COMMANDS = ("subscribe", "subscriptions", "unsubscribe", "tail")


def parser() -> argparse.ArgumentParser:
    """The commands as `allywatch` wires them (pipelines/cli.py), without the other modules."""
    root = argparse.ArgumentParser(prog="allywatch")
    subparsers = root.add_subparsers(dest="command")
    subscribe_command.register(subparsers)
    tail_command.register(subparsers)
    return root


def run(*argv: str) -> int:
    args = parser().parse_args(list(argv))
    return args.func(args)


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLYWATCH_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def no_emulator_env(monkeypatch, state_dir):
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)


# --- help ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        parser().parse_args([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: allywatch {command}" in out
    assert "--project" in out


def test_the_allywatch_cli_lists_the_commands():
    from pipelines.cli import build_parser

    help_text = build_parser().format_help()
    for command in COMMANDS:
        assert command in help_text


def test_help_through_the_installed_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "subscribe", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "--dead-letter" in result.stdout and "arms_transfer" in result.stdout


# --- errors that say what to fix ----------------------------------------------------


def test_without_any_pubsub_the_commands_say_what_to_do(no_emulator_env, capsys):
    for argv in (["subscribe", "jpn", "--partner", "JPN"], ["subscriptions"], ["unsubscribe", "jpn"], ["tail"]):
        assert run(*argv) == 2
        err = capsys.readouterr().err
        assert "allywatch run" in err and "PUBSUB_EMULATOR_HOST" in err and "--project" in err, argv


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["subscribe", "x1x", "--partner", "JAP"], "did you mean JPN"),
        (["subscribe", "x1x", "--concern", "NATO"], "concerns are countries"),
        (["subscribe", "x1x", "--type", "drill"], "use one of agreement"),
        (["subscribe", "x1x", "--min-outlets", "20"], "between 1 and 10"),
        (["subscribe", "no", "--partner", "JPN"], "3-255 characters"),
        (["subscribe", "x1x", "--filter", "attributes.type = exercise"], 'write "exercise"'),
        (["subscribe", "x1x", "--filter", "attributes:a", "--kind", "new"], "one or the other"),
        (["subscribe", "x1x", "--max-delivery-attempts", "3", "--dead-letter"], "between 5 and 100"),
        (["subscribe", "x1x", "--push-endpoint", "hook.example.org"], "absolute http(s) URL"),
    ],
)
def test_bad_subscribe_options_are_refused_before_any_pubsub_call(no_emulator_env, capsys, argv, fragment):
    assert run(*argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "no Pub/Sub to talk to" not in err  # option errors come first


def test_production_push_endpoints_must_be_https(no_emulator_env, capsys):
    assert run("subscribe", "hook", "--push-endpoint", "http://example.org/x", "--project", "prod") == 2
    assert "only to https" in capsys.readouterr().err


# --- finding the local monitor's emulator -------------------------------------------


def test_state_file_round_trip_and_staleness(pubsub_emulator, state_dir):
    assert read_local_emulator() is None
    path = write_local_emulator(pubsub_emulator.address, "local-proj")
    assert path == state_dir / "emulator.json"
    record = read_local_emulator()
    assert (record.address, record.project) == (pubsub_emulator.address, "local-proj")
    # a record whose process is gone is ignored
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    write_local_emulator(pubsub_emulator.address, "local-proj", pid=int(finished.stdout))
    assert read_local_emulator() is None
    assert clear_local_emulator() is False  # not ours: left alone
    # a record whose emulator does not answer is ignored
    write_local_emulator("127.0.0.1:9", "local-proj")
    assert read_local_emulator() is None
    assert clear_local_emulator() is True
    assert not path.exists()


def test_target_resolution_order(pubsub_emulator, monkeypatch, state_dir):
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    with pytest.raises(NoPubSubError):
        resolve_target(None)
    assert resolve_target("prod").emulator is None
    write_local_emulator(pubsub_emulator.address, "from-run")
    recorded = resolve_target(None)
    assert (recorded.project, recorded.emulator) == ("from-run", pubsub_emulator.address)
    assert "allywatch run" in recorded.how
    assert resolve_target("prod").emulator is None  # --project without the env var: Google Cloud
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.address)
    assert resolve_target(None).project == "from-run"  # same emulator as the record
    assert resolve_target("mine").project == "mine"
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:1")
    assert (resolve_target(None).project, resolve_target(None).emulator) == ("allywatch-local", "127.0.0.1:1")
    clear_local_emulator()


# --- the commands against the emulator ----------------------------------------------


@pytest.mark.emulator
def test_subscribe_list_unsubscribe(pubsub_emulator, state_dir, capsys):
    project = f"p-{uuid.uuid4().hex[:8]}"
    assert run("subscribe", "gulf", "--type", "arms_transfer", "--partner", "sau", "--partner", "ARE",
               "--project", project) == 0
    out = capsys.readouterr().out
    assert f"created schema projects/{project}/schemas/allywatch-alert-v1" in out
    assert f"created topic projects/{project}/topics/allywatch-alerts" in out
    assert (
        f"created subscription projects/{project}/subscriptions/gulf with filter: "
        '(attributes:partner_SAU OR attributes:partner_ARE) AND attributes.type = "arms_transfer"'
    ) in out
    assert "the emulator does not apply filters" in out

    assert run("subscribe", "gulf", "--type", "arms_transfer", "--partner", "SAU", "--partner", "ARE",
               "--project", project) == 0
    assert "already exists with this filter; nothing changed" in capsys.readouterr().out

    assert run("subscribe", "gulf", "--partner", "USA", "--project", project) == 2
    assert "allywatch unsubscribe gulf" in capsys.readouterr().err

    assert run("subscribe", "hook", "--push-endpoint", "http://127.0.0.1:9/x", "--dead-letter",
               "--project", project) == 0
    capsys.readouterr()
    assert run("subscriptions", "--json", "--project", project) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(s["name"], s["push_endpoint"], s["max_delivery_attempts"]) for s in listed] == [
        ("gulf", None, None),
        ("hook", "http://127.0.0.1:9/x", 5),
    ]
    assert run("subscriptions", "--project", project) == 0
    text = capsys.readouterr().out
    assert "dead-letter allywatch-alerts-dead-letter after 5" in text and "delivery: pull" in text

    assert run("unsubscribe", "gulf", "--project", project) == 0
    assert f"deleted subscription projects/{project}/subscriptions/gulf" in capsys.readouterr().out
    assert run("unsubscribe", "gulf", "--project", project) == 1
    assert "`allywatch subscriptions` lists them" in capsys.readouterr().err


@pytest.mark.emulator
def test_commands_find_the_emulator_recorded_by_run(pubsub_emulator, monkeypatch, state_dir, capsys):
    project = f"p-{uuid.uuid4().hex[:8]}"
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    write_local_emulator(pubsub_emulator.address, project)
    try:
        assert run("subscribe", "recorded", "--kind", "new") == 0
        out = capsys.readouterr().out
        assert f"emulator at {pubsub_emulator.address} started by `allywatch run`, project {project}" in out
        assert f"projects/{project}/subscriptions/recorded" in out
    finally:
        local_state.clear_local_emulator()
