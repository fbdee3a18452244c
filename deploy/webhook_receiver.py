"""A small webhook that a Pub/Sub push subscription on allywatch's alerts can target.

It decodes Pub/Sub's push envelope, checks the alert against allywatch's alert schema,
prints one line per alert, and optionally forwards it to a chat webhook (Slack-, Mattermost-
or Google-Chat-style: a JSON body `{"text": "..."}`). Python standard library only (plus
allywatch's schema when it is installed), so it can run anywhere.

Status codes are Pub/Sub's acknowledgement: 2xx acks; anything else makes Pub/Sub retry
with the subscription's backoff and, with `--dead-letter`, move the alert to the
dead-letter topic after the maximum delivery attempts. So:
- 204: the alert was printed (and forwarded); also for a redelivered alert already handled;
- 400: the request is not a push envelope, or the alert is not valid JSON / breaks the schema
  (it will not get better, so it ends in the dead-letter topic);
- 403: the `token` query parameter does not match ALLYWATCH_WEBHOOK_TOKEN;
- 502: forwarding to the chat webhook failed (Pub/Sub will retry later).

Run it (locally, next to `allywatch run`):

    python deploy/webhook_receiver.py --port 8085
    allywatch subscribe chat --partner JPN --push-endpoint http://127.0.0.1:8085/ --dead-letter

Forward to a chat channel and require a shared secret in the push URL:

    ALLYWATCH_FORWARD_URL=https://chat.example.org/hooks/XYZ ALLYWATCH_WEBHOOK_TOKEN=s3cret \\
        python deploy/webhook_receiver.py --host 0.0.0.0 --port 8085
    allywatch subscribe chat --partner JPN --project P \\
        --push-endpoint 'https://alerts.example.org/?token=s3cret' --dead-letter

Production Pub/Sub pushes only to https endpoints: put it behind a TLS-terminating proxy
(or Cloud Run), and prefer push authentication (OIDC tokens) to a shared secret there.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from collections import OrderedDict, deque
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs, urlparse

MAX_BODY_BYTES = 1_000_000  # Pub/Sub messages are at most 10 MB, alerts a few KB
FORWARD_TIMEOUT_SECONDS = 10
REMEMBERED_ALERTS = 10_000


def _schema_validator() -> Callable[[Any], list[str]]:
    """allywatch's validate_alert when installed; else a minimal check of the fields we print."""
    try:
        from transforms.alert_schema import validate_alert
    except ImportError:  # running on a host without allywatch installed

        def validate_alert(alert: Any) -> list[str]:
            if not isinstance(alert, dict):
                return ["alert: expected a JSON object"]
            return [f"missing {k!r}" for k in ("alert_id", "kind", "type", "partners", "title") if k not in alert]

    return validate_alert


class BadRequest(ValueError):
    """The push request cannot be turned into an alert; the message says why."""


def decode_push(body: bytes) -> tuple[dict[str, Any], dict[str, str], str]:
    """(alert, attributes, message id) from a push request body; raises BadRequest."""
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"body is not JSON: {exc}") from None
    message = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(message, dict):
        raise BadRequest("not a Pub/Sub push envelope: no 'message' object")
    data = message.get("data")
    if not isinstance(data, str):
        raise BadRequest("push message has no base64 'data'")
    try:
        payload = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"message data is not base64: {exc}") from None
    try:
        alert = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"message data is not JSON: {exc}") from None
    attributes = message.get("attributes") or {}
    message_id = str(message.get("messageId") or message.get("message_id") or "")
    return alert, dict(attributes), message_id


def alert_line(alert: Mapping[str, Any]) -> str:
    """One readable line, the same shape `allywatch tail` prints."""
    partners = "+".join(alert.get("partners") or []) or "?"
    concerns = alert.get("concerns") or []
    against = f" vs {','.join(concerns)}" if concerns else ""
    return (
        f"[{alert.get('kind', '?')}] {alert.get('type', '?')} {partners}{against} "
        f"({alert.get('outlet_count', '?')} outlets) {' '.join(str(alert.get('title', '')).split())}"
    )


def chat_text(alert: Mapping[str, Any]) -> str:
    """The chat message: the line plus the first source link."""
    sources = alert.get("sources") or []
    link = sources[0].get("link") if sources and isinstance(sources[0], dict) else None
    return alert_line(alert) + (f"\n{link}" if link else "")


def forward(url: str, alert: Mapping[str, Any]) -> None:
    """POST {"text": ...} to the chat webhook; raises OSError (incl. HTTPError) on failure."""
    body = json.dumps({"text": chat_text(alert)}).encode("utf-8")
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=FORWARD_TIMEOUT_SECONDS) as response:
        if response.status >= 300:
            raise OSError(f"chat webhook answered {response.status}")


class ReceiverConfig:
    """What a running receiver does with alerts; shared by its handler threads."""

    def __init__(
        self,
        forward_url: str | None = None,
        token: str | None = None,
        out: Any = None,
        validate: Callable[[Any], list[str]] | None = None,
    ) -> None:
        self.forward_url = forward_url
        self.token = token
        self.out = out or sys.stdout
        self.validate = validate or _schema_validator()
        self.lock = threading.Lock()
        self.handled: OrderedDict[str, None] = OrderedDict()  # alert ids delivered or being delivered
        # the latest accepted alerts, in order (for tests and tools); bounded like `handled`
        self.received: deque[dict[str, Any]] = deque(maxlen=REMEMBERED_ALERTS)
        self.refused = 0

    def claim(self, alert_id: str) -> bool:
        """Take an alert for delivery; False if it was (or is being) delivered already.

        Checking and recording under one lock keeps two concurrent redeliveries of one
        alert from both reaching the chat channel."""
        with self.lock:
            if alert_id in self.handled:
                return False
            self.handled[alert_id] = None
            while len(self.handled) > REMEMBERED_ALERTS:
                self.handled.popitem(last=False)
            return True

    def release(self, alert_id: str) -> None:
        """Forget a claimed alert whose delivery failed, so Pub/Sub's redelivery is tried again."""
        with self.lock:
            self.handled.pop(alert_id, None)

    def accepted(self, alert: dict[str, Any]) -> None:
        with self.lock:
            self.received.append(alert)


class PushHandler(BaseHTTPRequestHandler):
    server_version = "allywatch-webhook/1"
    config: ReceiverConfig  # set on the subclass by make_server

    def _reply(self, status: HTTPStatus, reason: str = "") -> None:
        body = (reason + "\n").encode("utf-8") if reason else b""
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _refuse(self, status: HTTPStatus, reason: str) -> None:
        with self.config.lock:
            self.config.refused += 1
        print(f"refused ({status.value}): {reason}", file=sys.stderr, flush=True)
        self._reply(status, reason)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._reply(HTTPStatus.OK, "allywatch webhook receiver: POST Pub/Sub push requests here")

    def do_POST(self) -> None:  # noqa: N802
        config = self.config
        if config.token is not None:
            given = parse_qs(urlparse(self.path).query).get("token", [""])[0]
            if not hmac.compare_digest(given, config.token):
                self._refuse(HTTPStatus.FORBIDDEN, "missing or wrong token")
                return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._refuse(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
            return
        if length > MAX_BODY_BYTES:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY_BYTES} bytes")
            return
        try:
            alert, _attributes, message_id = decode_push(self.rfile.read(length))
        except BadRequest as exc:
            self._refuse(HTTPStatus.BAD_REQUEST, str(exc))
            return
        errors = config.validate(alert)
        if errors:
            self._refuse(HTTPStatus.BAD_REQUEST, "alert breaks the schema: " + "; ".join(errors[:5]))
            return
        alert_id = str(alert.get("alert_id") or message_id)
        if not config.claim(alert_id):
            self._reply(HTTPStatus.NO_CONTENT)  # a redelivery: ack, do not post twice
            return
        if config.forward_url:
            try:
                forward(config.forward_url, alert)
            except OSError as exc:
                config.release(alert_id)
                self._refuse(HTTPStatus.BAD_GATEWAY, f"forwarding to the chat webhook failed: {exc}")
                return
        config.accepted(alert)
        print(alert_line(alert), file=config.out, flush=True)
        self._reply(HTTPStatus.NO_CONTENT)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass  # one line per alert (or refusal) is printed instead


def make_server(host: str, port: int, config: ReceiverConfig) -> ThreadingHTTPServer:
    """A receiver bound to host:port (port 0: any free port; see server.server_port)."""
    handler = type("ConfiguredPushHandler", (PushHandler,), {"config": config})
    return ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Receive allywatch alerts from a Pub/Sub push subscription; print and forward them.",
        epilog="Environment: ALLYWATCH_FORWARD_URL (chat webhook), ALLYWATCH_WEBHOOK_TOKEN (required ?token=).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8085, help="port (default: %(default)s)")
    parser.add_argument(
        "--forward-url", default=os.environ.get("ALLYWATCH_FORWARD_URL"), help="chat webhook to POST {\"text\"} to"
    )
    args = parser.parse_args(argv)
    config = ReceiverConfig(forward_url=args.forward_url, token=os.environ.get("ALLYWATCH_WEBHOOK_TOKEN"))
    try:
        server = make_server(args.host, args.port, config)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}; choose another --port", file=sys.stderr)
        return 1
    print(f"listening on http://{args.host}:{server.server_port}/ (Ctrl-C to stop)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
