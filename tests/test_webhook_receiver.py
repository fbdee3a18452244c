"""deploy/webhook_receiver.py: decodes push envelopes, validates, prints, forwards; refuses bad input."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from transforms.alert_schema.example import example_alert

RECEIVER_PATH = Path(__file__).resolve().parents[1] / "deploy" / "webhook_receiver.py"


def load_receiver():
    """deploy/ is not a package: load the script as a module, as `python deploy/...` would run it."""
    spec = importlib.util.spec_from_file_location("webhook_receiver", RECEIVER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


receiver = load_receiver()


def envelope(payload: bytes, message_id: str = "1", attributes: dict | None = None) -> bytes:
    return json.dumps(
        {
            "message": {
                "data": base64.b64encode(payload).decode(),
                "attributes": attributes or {},
                "messageId": message_id,
                "publishTime": "2026-01-01T00:00:00Z",
            },
            "subscription": "projects/p/subscriptions/hook",
        }
    ).encode()


class ChatStub:
    """A local chat webhook that records posts and answers with a chosen status."""

    def __init__(self, status: int = 200):
        self.status = status
        self.posts: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                stub.posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(stub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def running():
    """Start a receiver with the given config on a free loopback port; stop it afterwards."""
    started = []

    def start(**kwargs):
        config = receiver.ReceiverConfig(out=io.StringIO(), **kwargs)
        server = receiver.make_server("127.0.0.1", 0, config)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(server)
        return f"http://127.0.0.1:{server.server_port}/", config

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_decode_push_reads_the_envelope():
    alert = example_alert()
    decoded, attributes, message_id = receiver.decode_push(envelope(json.dumps(alert).encode(), "42", {"kind": "new"}))
    assert (decoded, attributes, message_id) == (alert, {"kind": "new"}, "42")


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b"not json", "body is not JSON"),
        (b'{"subscription": "x"}', "no 'message' object"),
        (b'{"message": {"data": 3}}', "no base64 'data'"),
        (b'{"message": {"data": "***"}}', "not base64"),
        (envelope(b"{broken"), "message data is not JSON"),
    ],
)
def test_decode_push_refuses_what_is_not_an_alert_message(body, fragment):
    with pytest.raises(receiver.BadRequest, match=fragment):
        receiver.decode_push(body)


def test_valid_alert_is_acked_and_printed(running):
    url, config = running()
    assert post(url, envelope(json.dumps(example_alert()).encode())) == 204
    assert config.out.getvalue() == (
        "[update] dialogue CAN+JPN vs CHN,PRK (2 outlets) Canada, Japan agree to deepen defence cooperation\n"
    )
    assert [a["alert_id"] for a in config.received] == [example_alert()["alert_id"]]


@pytest.mark.parametrize(
    "body, status",
    [
        (b"garbage", 400),
        (envelope(b"[1, 2"), 400),
        (envelope(json.dumps(example_alert(kind="revised")).encode()), 400),
        (envelope(json.dumps({"hello": "world"}).encode()), 400),
    ],
)
def test_bad_input_gets_a_non_2xx_so_pubsub_retries_and_dead_letters(running, body, status):
    url, config = running()
    assert post(url, body) == status
    assert not config.received and config.refused == 1


def test_token_is_required_when_configured(running):
    url, config = running(token="s3cret")
    body = envelope(json.dumps(example_alert()).encode())
    assert post(url, body) == 403
    assert post(url + "?token=wrong", body) == 403
    assert post(url + "?token=s3cret", body) == 204


def test_forwards_to_the_chat_webhook_once_per_alert():
    chat = ChatStub(200)
    try:
        config = receiver.ReceiverConfig(out=io.StringIO(), forward_url=chat.url)
        server = receiver.make_server("127.0.0.1", 0, config)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/"
        body = envelope(json.dumps(example_alert()).encode())
        assert post(url, body) == 204
        assert post(url, body) == 204  # a redelivery: acked, not posted twice
        server.shutdown()
        server.server_close()
    finally:
        chat.close()
    assert len(chat.posts) == 1
    assert chat.posts[0]["text"].startswith("[update] dialogue CAN+JPN")
    assert chat.posts[0]["text"].endswith("https://example.org/cbc/1")


def test_a_failing_chat_webhook_makes_the_receiver_answer_502(running):
    chat = ChatStub(500)
    try:
        url, config = running(forward_url=chat.url)
        body = envelope(json.dumps(example_alert()).encode())
        assert post(url, body) == 502
        assert post(url, body) == 502  # Pub/Sub's redelivery is forwarded again, not taken as done
        assert not config.received
    finally:
        chat.close()
    assert len(chat.posts) == 2


def test_claiming_an_alert_is_atomic_and_released_on_failure():
    config = receiver.ReceiverConfig(out=io.StringIO())
    assert config.claim("a") is True
    assert config.claim("a") is False  # a concurrent redelivery must not deliver it too
    config.release("a")
    assert config.claim("a") is True


def test_help_runs():
    with pytest.raises(SystemExit) as info:
        receiver.main(["--help"])
    assert info.value.code == 0
