"""Users, roles, API tokens and short-lived sessions.

Roles: ``rm`` (relationship manager: sees only their own records), ``compliance`` (reads every
record, manages knowledge), ``admin``. API tokens are created by ``copilot users create`` and shown
once; the database keeps only a lookup prefix and the SHA-256 of the whole token, so a copy of the
database does not let anyone sign in. Sessions are tokens of the same shape with an expiry
(``settings.session_ttl_s``), issued after WeCom sidebar sign-in. Same database as the audit trail,
separate tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel

from copilot.config import Settings, get_settings
from copilot.store import ensure_sqlite_dir, make_engine

Role = Literal["rm", "compliance", "admin"]
ROLES: tuple[str, ...] = ("rm", "compliance", "admin")
API_TOKEN_PREFIX = "cpt_"  # long-lived API token
SESSION_TOKEN_PREFIX = "cps_"  # sidebar session
_LOOKUP_LEN = 12  # characters of the token kept in clear to find its row
_USERID_RE = re.compile(r"^[A-Za-z0-9_.@\-\u4e00-\u9fff]{1,64}$")

metadata = sa.MetaData()

users = sa.Table(
    "auth_users",
    metadata,
    sa.Column("userid", sa.String(64), primary_key=True),  # the WeCom userid for RMs
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
)

tokens = sa.Table(
    "auth_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("lookup", sa.String(_LOOKUP_LEN), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("userid", sa.String(64), sa.ForeignKey("auth_users.userid"), nullable=False, index=True),
    sa.Column("kind", sa.String(8), nullable=False),  # api | session
    sa.Column("label", sa.String(128), nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)


class AuthError(ValueError):
    """Bad input to the user directory; the message is Chinese."""


class User(BaseModel):
    userid: str
    name: str
    role: Role
    created_at: dt.datetime
    disabled: bool = False

    def can_read_all(self) -> bool:
        """Compliance and admin read every RM's records; an RM only their own."""
        return self.role in ("compliance", "admin")

    def can_manage_knowledge(self) -> bool:
        return self.role in ("compliance", "admin")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; everything here is UTC.
    return t.replace(tzinfo=dt.UTC) if t is not None and t.tzinfo is None else t


def _user_of(row: sa.Row) -> User:
    m = row._mapping
    return User(userid=m["userid"], name=m["name"], role=m["role"],
                created_at=_aware(m["created_at"]), disabled=bool(m["disabled"]))


class AuthStore:
    """The user directory and token store."""

    def __init__(self, url: str | None = None, *, settings: Settings | None = None,
                 clock: Callable[[], dt.datetime] = _now) -> None:
        self.settings = settings or get_settings()
        self.url = url or self.settings.resolved_database_url
        ensure_sqlite_dir(self.url)
        self.engine = make_engine(self.url)
        self._now = clock  # injectable so session expiry is testable without sleeping
        metadata.create_all(self.engine)

    # -- users --
    def create_user(self, name: str, role: str, userid: str | None = None,
                    label: str = "created by CLI") -> tuple[User, str]:
        """Create a user and their first API token; the token is returned once and never stored."""
        name = (name or "").strip()
        userid = (userid or name).strip()
        if not name:
            raise AuthError("用户名不能为空")
        if role not in ROLES:
            raise AuthError(f"无效的角色: {role!r}（应为 rm、compliance 或 admin）")
        if not _USERID_RE.match(userid):
            raise AuthError(f"无效的用户 ID: {userid!r}（1–64 个字母、数字、汉字或 _.@-）")
        with self.engine.begin() as conn:
            if conn.execute(sa.select(users.c.userid).where(users.c.userid == userid)).first():
                raise AuthError(f"用户已存在: {userid}")
            conn.execute(users.insert().values(userid=userid, name=name, role=role,
                                               created_at=self._now(), disabled=False))
        return self.get_user(userid), self.issue_token(userid, label=label)

    def get_user(self, userid: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.userid == userid)).first()
        if row is None:
            raise AuthError(f"用户不存在: {userid}")
        return _user_of(row)

    def find_user(self, userid: str) -> User | None:
        try:
            return self.get_user(userid)
        except AuthError:
            return None

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user_of(r) for r in conn.execute(sa.select(users).order_by(users.c.userid))]

    def disable_user(self, userid: str) -> None:
        """Disabling a user also ends every token and session they hold."""
        self.get_user(userid)
        with self.engine.begin() as conn:
            conn.execute(users.update().where(users.c.userid == userid).values(disabled=True))
            conn.execute(tokens.update().where(tokens.c.userid == userid, tokens.c.revoked_at.is_(None))
                         .values(revoked_at=self._now()))

    # -- tokens and sessions --
    def issue_token(self, userid: str, label: str = "") -> str:
        """A new long-lived API token for an existing user."""
        return self._issue(userid, API_TOKEN_PREFIX, "api", label, expires_at=None)

    def create_session(self, userid: str, ttl_s: int | None = None) -> str:
        """A short-lived session token (WeCom sidebar sign-in). Only known, enabled users get one."""
        ttl = self.settings.session_ttl_s if ttl_s is None else ttl_s
        if ttl <= 0:
            raise AuthError("会话有效期必须为正数")
        return self._issue(userid, SESSION_TOKEN_PREFIX, "session", "wecom sidebar",
                           expires_at=self._now() + dt.timedelta(seconds=ttl))

    def _issue(self, userid: str, prefix: str, kind: str, label: str,
               expires_at: dt.datetime | None) -> str:
        user = self.get_user(userid)
        if user.disabled:
            raise AuthError(f"用户已停用: {userid}")
        token = prefix + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(tokens.insert().values(
                lookup=token[:_LOOKUP_LEN], token_hash=hash_token(token), userid=userid, kind=kind,
                label=label, created_at=self._now(), expires_at=expires_at, revoked_at=None,
            ))
        return token

    def authenticate(self, token: str | None) -> User | None:
        """The user a bearer token belongs to, or None (unknown, revoked, expired, disabled)."""
        if not token or not token.startswith((API_TOKEN_PREFIX, SESSION_TOKEN_PREFIX)) or len(token) > 256:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(tokens.c.token_hash, tokens.c.expires_at, tokens.c.revoked_at, users)
                .join(users, users.c.userid == tokens.c.userid)
                .where(tokens.c.lookup == token[:_LOOKUP_LEN])
            ).first()
        if row is None:
            return None
        m = row._mapping
        # Constant-time compare: the lookup prefix is not secret, the rest is.
        if not hmac.compare_digest(m["token_hash"], hash_token(token)):
            return None
        if m["revoked_at"] is not None or m["disabled"]:
            return None
        expires = _aware(m["expires_at"])
        if expires is not None and expires <= self._now():
            return None
        return _user_of(row)

    def revoke(self, token: str) -> bool:
        """Revoke a token (the whole token, as a user signing out presents it). True if it was live."""
        if not token:
            return False
        with self.engine.begin() as conn:
            res = conn.execute(
                tokens.update()
                .where(tokens.c.lookup == token[:_LOOKUP_LEN], tokens.c.token_hash == hash_token(token),
                       tokens.c.revoked_at.is_(None))
                .values(revoked_at=self._now())
            )
        return res.rowcount > 0

    def revoke_all(self, userid: str, kind: str | None = None) -> int:
        """Revoke every live token (or every one of ``kind``: api | session) of a user."""
        conds = [tokens.c.userid == userid, tokens.c.revoked_at.is_(None)]
        if kind is not None:
            conds.append(tokens.c.kind == kind)
        with self.engine.begin() as conn:
            return conn.execute(tokens.update().where(*conds).values(revoked_at=self._now())).rowcount

    def purge_expired_sessions(self) -> int:
        """Delete session rows past their expiry (they authenticate nothing; keeps the table small)."""
        with self.engine.begin() as conn:
            return conn.execute(
                tokens.delete().where(tokens.c.kind == "session", tokens.c.expires_at <= self._now())
            ).rowcount
