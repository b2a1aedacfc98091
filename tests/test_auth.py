"""Users, hashed API tokens and expiring sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from copilot.auth import AuthError, AuthStore
from copilot.config import Settings


class Clock:
    """A hand-moved UTC clock, injected so session expiry is tested without sleeping."""

    def __init__(self) -> None:
        self.now = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(db_url: str, tmp_path: Path, clock: Clock) -> AuthStore:
    return AuthStore(db_url, settings=Settings(data_dir=tmp_path, session_ttl_s=600), clock=clock)


def dump(auth: AuthStore) -> str:
    with auth.engine.connect() as conn:
        rows = [r for t in ("auth_users", "auth_tokens") for r in conn.execute(sa.text(f"SELECT * FROM {t}"))]
    return json.dumps([[str(v) for v in r] for r in rows], ensure_ascii=False)


def test_token_authenticates_and_is_stored_only_hashed(auth: AuthStore, db_url: str) -> None:
    user, token = auth.create_user("张三", "rm", userid="zhangsan")
    assert (user.userid, user.name, user.role) == ("zhangsan", "张三", "rm")
    found = auth.authenticate(token)
    assert found is not None and found.userid == "zhangsan" and found.role == "rm"
    stored = dump(auth)
    assert token not in stored
    assert token[12:] not in stored  # not even the secret part
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    if db_url.startswith("sqlite"):
        raw = Path(db_url.removeprefix("sqlite:///")).read_bytes()
        wal = Path(db_url.removeprefix("sqlite:///") + "-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        assert token.encode() not in raw


def test_wrong_or_malformed_tokens_get_nobody(auth: AuthStore) -> None:
    _, token = auth.create_user("李四", "compliance", userid="lisi")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (flipped, token[:12], "", None, "Bearer " + token, "cpt_" + "x" * 300, token + "x"):
        assert auth.authenticate(bad) is None


def test_roles(auth: AuthStore) -> None:
    rm, _ = auth.create_user("王五", "rm", userid="wangwu")
    comp, _ = auth.create_user("合规", "compliance", userid="comp")
    admin, _ = auth.create_user("管理员", "admin", userid="admin")
    assert not rm.can_read_all() and not rm.can_manage_knowledge()
    assert comp.can_read_all() and comp.can_manage_knowledge()
    assert admin.can_read_all()
    assert [u.userid for u in auth.list_users()] == ["admin", "comp", "wangwu"]


@pytest.mark.parametrize(
    ("name", "role", "userid", "message"),
    [("", "rm", None, "用户名"), ("张三", "boss", None, "角色"), ("张三", "rm", "a b", "用户 ID")],
)
def test_bad_users_are_refused(
    auth: AuthStore, name: str, role: str, userid: str | None, message: str
) -> None:
    with pytest.raises(AuthError, match=message):
        auth.create_user(name, role, userid=userid)
    assert auth.list_users() == []


def test_duplicate_user_is_refused(auth: AuthStore) -> None:
    auth.create_user("张三", "rm", userid="zhangsan")
    with pytest.raises(AuthError, match="已存在"):
        auth.create_user("张三", "admin", userid="zhangsan")
    assert auth.get_user("zhangsan").role == "rm"


def test_session_expires(auth: AuthStore, clock: Clock) -> None:
    auth.create_user("张三", "rm", userid="zhangsan")
    session = auth.create_session("zhangsan")
    assert session.startswith("cps_") and session not in dump(auth)
    clock.advance(599)
    assert auth.authenticate(session).userid == "zhangsan"
    clock.advance(1)
    assert auth.authenticate(session) is None
    short = auth.create_session("zhangsan", ttl_s=5)
    clock.advance(6)
    assert auth.authenticate(short) is None
    assert auth.purge_expired_sessions() == 2


def test_sessions_only_for_known_enabled_users(auth: AuthStore) -> None:
    with pytest.raises(AuthError, match="不存在"):
        auth.create_session("stranger")
    _, token = auth.create_user("张三", "rm", userid="zhangsan")
    session = auth.create_session("zhangsan")
    auth.disable_user("zhangsan")
    assert auth.authenticate(token) is None and auth.authenticate(session) is None
    with pytest.raises(AuthError, match="停用"):
        auth.create_session("zhangsan")


def test_revoke(auth: AuthStore) -> None:
    _, token = auth.create_user("张三", "rm", userid="zhangsan")
    second = auth.issue_token("zhangsan")
    session = auth.create_session("zhangsan")
    assert auth.revoke(token) is True
    assert auth.authenticate(token) is None and auth.authenticate(second) is not None
    assert auth.revoke(token) is False
    assert auth.revoke_all("zhangsan", kind="session") == 1
    assert auth.authenticate(session) is None and auth.authenticate(second) is not None


def test_cli_creates_user_and_prints_token_once(db_url: str, tmp_path: Path) -> None:
    from copilot.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["users", "create", "--name", "赵六", "--role", "rm", "--userid", "zhaoliu",
                              "--db", db_url])
    assert res.exit_code == 0, res.output
    token = res.stdout.strip().splitlines()[-1]
    auth = AuthStore(db_url, settings=Settings(data_dir=tmp_path))
    assert auth.authenticate(token).userid == "zhaoliu"
    listing = runner.invoke(app, ["users", "list", "--json", "--db", db_url])
    assert listing.exit_code == 0 and token not in listing.output
    assert json.loads(listing.stdout)[0]["role"] == "rm"
    again = runner.invoke(app, ["users", "create", "--name", "赵六", "--role", "rm", "--userid", "zhaoliu",
                                "--db", db_url])
    assert again.exit_code == 2 and "已存在" in again.output
    bad = runner.invoke(app, ["users", "create", "--name", "x", "--role", "root", "--db", db_url])
    assert bad.exit_code == 2 and "角色" in bad.output
