"""A fake WeCom (企业微信) API server on 127.0.0.1, speaking WeCom's JSON protocol over real HTTP.

Endpoints (all GET, JSON bodies with ``errcode``/``errmsg`` as WeCom sends them, HTTP 200 even on
errors, as WeCom does):
  /cgi-bin/gettoken?corpid&corpsecret        → access_token, expires_in
  /cgi-bin/auth/getuserinfo?access_token&code → userid (member) | openid+external_userid (non-member)
  /cgi-bin/get_jsapi_ticket?access_token      → ticket, expires_in (corp ticket)
  /cgi-bin/ticket/get?access_token&type=agent_config → ticket, expires_in (app ticket)

Codes are single-use and expire after 5 minutes of the server's clock; ``advance(seconds)`` moves
that clock so tests need not sleep. Tests read ``calls`` to see what the client really requested.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

CODE_TTL_S = 300


@dataclass
class _Code:
    userid: str | None
    openid: str | None
    external_userid: str | None
    expires_at: float
    used: bool = False


@dataclass
class FakeWeComState:
    corp_id: str
    secret: str
    token_ttl_s: int = 7200
    ticket_ttl_s: int = 7200
    offset_s: float = 0.0  # added to time.time(): the server's own clock
    tokens: dict[str, float] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    tickets: dict[str, str] = field(default_factory=dict)  # kind -> current ticket
    calls: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.time() + self.offset_s


class FakeWeComServer:
    def __init__(
        self,
        corp_id: str = "wwfakecorp0001",
        secret: str = "fake-app-secret",
        *,
        token_ttl_s: int = 7200,
        ticket_ttl_s: int = 7200,
    ) -> None:
        self.state = FakeWeComState(corp_id, secret, token_ttl_s, ticket_ttl_s)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self.state))
        self._httpd.daemon_threads = True
        # A short poll interval makes shutdown() return quickly at the end of each test.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="fake-wecom", daemon=True)

    # -- lifecycle --
    def start(self) -> FakeWeComServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeWeComServer:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- test controls --
    @property
    def calls(self) -> Counter:
        return self.state.calls

    def issue_code(self, userid: str | None = None, *, external_userid: str | None = None) -> str:
        """The OAuth code WeCom would append to the sidebar's redirect URL after sign-in."""
        code = secrets.token_urlsafe(24)
        openid = None if userid else "o" + secrets.token_hex(8)
        with self.state.lock:
            self.state.codes[code] = _Code(userid, openid, external_userid, self.state.now() + CODE_TTL_S)
        return code

    def advance(self, seconds: float) -> None:
        with self.state.lock:
            self.state.offset_s += seconds

    def expire_all_tokens(self) -> None:
        """As if WeCom invalidated every token (e.g. the secret was reset)."""
        with self.state.lock:
            self.state.tokens.clear()

    def current_ticket(self, kind: str = "jsapi") -> str | None:
        return self.state.tickets.get(kind)


def _make_handler(state: FakeWeComState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:  # keep test output quiet
            pass

        def _send(self, body: dict[str, Any]) -> None:
            raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _error(self, errcode: int, errmsg: str) -> None:
            self._send({"errcode": errcode, "errmsg": f"{errmsg}, hint: [fake-{secrets.token_hex(4)}]"})

        def do_GET(self) -> None:
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            route = {
                "/cgi-bin/gettoken": self._gettoken,
                "/cgi-bin/auth/getuserinfo": self._getuserinfo,
                "/cgi-bin/get_jsapi_ticket": lambda q: self._ticket(q, "jsapi"),
                "/cgi-bin/ticket/get": self._agent_ticket,
            }.get(url.path)
            with state.lock:
                state.calls[url.path] += 1
                if route is None:
                    self._error(404, "invalid url")  # WeCom answers unknown paths with an errcode too
                    return
                route(q)

        def _token_ok(self, q: dict[str, str]) -> bool:
            token = q.get("access_token")
            if not token:
                self._error(41001, "access_token missing")
                return False
            expires = state.tokens.get(token)
            if expires is None:
                self._error(40014, "invalid access_token")
                return False
            if expires <= state.now():
                self._error(42001, "access_token expired")
                return False
            return True

        def _gettoken(self, q: dict[str, str]) -> None:
            if q.get("corpid") != state.corp_id:
                self._error(40013, "invalid corpid")
                return
            if q.get("corpsecret") != state.secret:
                self._error(40001, "invalid credential")
                return
            token = secrets.token_urlsafe(48)
            state.tokens[token] = state.now() + state.token_ttl_s
            self._send({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": state.token_ttl_s})

        def _getuserinfo(self, q: dict[str, str]) -> None:
            if not self._token_ok(q):
                return
            code = q.get("code")
            if not code:
                self._error(41008, "missing oauth code")
                return
            entry = state.codes.get(code)
            if entry is None or entry.used or entry.expires_at <= state.now():
                self._error(40029, "invalid code")
                return
            entry.used = True  # single use, whatever happens next
            if entry.userid:
                self._send({"errcode": 0, "errmsg": "ok", "userid": entry.userid})
            else:
                body: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "openid": entry.openid}
                if entry.external_userid:
                    body["external_userid"] = entry.external_userid
                self._send(body)

        def _ticket(self, q: dict[str, str], kind: str) -> None:
            if not self._token_ok(q):
                return
            ticket = secrets.token_urlsafe(60)
            state.tickets[kind] = ticket
            self._send({"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": state.ticket_ttl_s})

        def _agent_ticket(self, q: dict[str, str]) -> None:
            if q.get("type") != "agent_config":
                self._error(40004, "invalid type")
                return
            self._ticket(q, "agent_config")

    return Handler
