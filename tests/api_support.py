"""Fixtures shared by the API tests (tests/test_api_*.py): a real app on a real index, its users.

Import with ``from api_support import *`` — pytest puts tests/ on sys.path (rootdir conftest).
Every test gets its own audit database; the index is the session's ``kb_settings`` one.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from copilot.api import create_app
from copilot.config import CHECKOUT, Settings


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]  # userid -> bearer token
    settings: Settings

    @property
    def services(self) -> Any:
        return self.client.app.state.services  # type: ignore[attr-defined]

    def auth(self, userid: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[userid]}"}

    def get(self, path: str, as_user: str | None = "rm1", **kw: Any) -> Any:
        return self.client.get(path, headers=self.auth(as_user) if as_user else {}, **kw)

    def post(self, path: str, as_user: str | None = "rm1", **kw: Any) -> Any:
        return self.client.post(
            path, headers={**(self.auth(as_user) if as_user else {}), **kw.pop("headers", {})}, **kw
        )


USERS = [
    ("rm1", "林经理", "rm"),
    ("rm2", "王经理", "rm"),
    ("comp1", "合规张", "compliance"),
    ("admin1", "管理员", "admin"),
]


@contextlib.contextmanager
def make_api(settings: Settings, **app_kw: Any) -> Iterator[Api]:
    """A real app on ``settings`` with four users (rm1, rm2, comp1, admin1) and a test client."""
    app = create_app(settings, **app_kw)
    auth = app.state.services.auth
    tokens = {userid: auth.create_user(name, role, userid=userid)[1] for userid, name, role in USERS}
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, tokens, settings)


@pytest.fixture
def api_settings(kb_settings: Settings, tmp_path: Path) -> Settings:
    """The session's indexed knowledge base, a private audit database, the template writer."""
    return kb_settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'audit.db'}", "writer": "template"}
    )


@pytest.fixture
def api(api_settings: Settings) -> Iterator[Api]:
    with make_api(api_settings) as a:
        yield a


@pytest.fixture
def content_copy(kb_settings: Settings, tmp_path: Path) -> Settings:
    """A private content root and data directory (copies), for tests that change them."""
    root = tmp_path / "content"
    for folder in ("knowledge", "guardrails", "prompts"):
        if (CHECKOUT / folder).is_dir():
            shutil.copytree(CHECKOUT / folder, root / folder)
    data = tmp_path / "data"
    shutil.copytree(kb_settings.data_dir, data)
    return kb_settings.model_copy(
        update={"content_root": root, "data_dir": data, "database_url": "", "writer": "template"}
    )


def error_of(resp: Any) -> dict[str, Any]:
    """The common error shape, asserted."""
    body = resp.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "detail"}, body
    assert body["error"]["message"], body
    return body["error"]


def sse_events(resp: Any) -> list[tuple[str, Any]]:
    """Parse a text/event-stream body into (event, JSON data) pairs, as a browser would."""
    events: list[tuple[str, Any]] = []
    event, data = "message", []
    for line in resp.iter_lines():
        if line == "":
            if data:
                events.append((event, json.loads("\n".join(data))))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
    if data:
        events.append((event, json.loads("\n".join(data))))
    return events


__all__ = ["USERS", "Api", "api", "api_settings", "content_copy", "error_of", "make_api", "sse_events"]
