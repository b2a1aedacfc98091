"""WeCom (企业微信) protocol pieces: JS-SDK signatures, callback crypto, and a small API client.

Facts from WeCom's developer docs (developer.work.weixin.qq.com, doc path numbers in brackets):
- JS-SDK signature [96909]: SHA-1 of ``jsapi_ticket=…&noncestr=…&timestamp=…&url=…`` in that
  order, the URL without ``#…`` and not URL-encoded; tickets last ``expires_in`` (7200 s) and have
  strict rate limits, so they are cached.
- Callbacks [91144]: ``msg_signature = sha1(sorted([token, timestamp, nonce, encrypt]) joined)``;
  AES-256-CBC with key = base64decode(EncodingAESKey + "="), IV = key[:16], PKCS#7 padding to
  32-byte blocks; plaintext = 16 random bytes + 4-byte big-endian length + message + corp id.
- Sidebar sign-in [98177/96442]: OAuth code → ``GET /cgi-bin/auth/getuserinfo`` → ``userid``
  (members) or ``openid``/``external_userid`` (non-members); a code is single-use and lasts 5 min.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK = 32  # WeCom pads to 32-byte blocks, not AES's 16
# errcodes meaning "the access_token is no longer good": fetch a new one and retry once.
_TOKEN_EXPIRED_CODES = {40014, 42001}
_ERRMSG_ZH = {
    40001: "应用 Secret 错误或已失效",
    40013: "企业 ID（corpid）无效",
    40014: "access_token 无效",
    40029: "登录授权码无效、已使用或已过期，请重新打开侧边栏",
    41008: "缺少登录授权码",
    42001: "access_token 已过期",
    45009: "接口调用超过频率限制，请稍后再试",
    50001: "跳转域名不在应用的可信域名内",
}


class WeComError(RuntimeError):
    """A WeCom API error (``errcode`` ≠ 0) or a protocol failure, with a Chinese message."""

    def __init__(self, message: str, errcode: int | None = None, errmsg: str = "") -> None:
        super().__init__(message)
        self.errcode = errcode
        self.errmsg = errmsg


class WeComCryptoError(ValueError):
    """A callback that fails signature, decryption or corp id checks: reject the request."""


# --- signatures ---------------------------------------------------------------------------------


def js_sdk_signature(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """The ``signature`` for ``ww.config``/``ww.agentConfig``/``ww.register`` on the page ``url``."""
    page = url.split("#", 1)[0]
    raw = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={page}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def msg_signature(token: str, timestamp: str | int, nonce: str | int, encrypt: str) -> str:
    parts = sorted([str(token), str(timestamp), str(nonce), str(encrypt)])
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()


def _pad(data: bytes) -> bytes:
    padder = padding.PKCS7(_BLOCK * 8).padder()
    return padder.update(data) + padder.finalize()


def _unpad(data: bytes) -> bytes:
    # cryptography's PKCS7 unpadder takes block sizes up to 2040 bits, so 256 works; any malformed
    # padding raises ValueError, which the caller turns into a rejected callback.
    unpadder = padding.PKCS7(_BLOCK * 8).unpadder()
    return unpadder.update(data) + unpadder.finalize()


class WeComCrypto:
    """Callback message crypto (WeCom's WXBizMsgCrypt scheme) on the ``cryptography`` package."""

    def __init__(self, token: str, encoding_aes_key: str, corp_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise WeComCryptoError("EncodingAESKey 应为 43 个字符")
        try:
            self.key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except ValueError as exc:
            raise WeComCryptoError("EncodingAESKey 不是有效的 Base64") from exc
        if len(self.key) != 32:
            raise WeComCryptoError("EncodingAESKey 解码后应为 32 字节")
        self.token = token
        self.corp_id = corp_id
        self.iv = self.key[:16]

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.iv))

    def check_signature(self, signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = msg_signature(self.token, timestamp, nonce, encrypt)
        if not _consteq(expected, signature or ""):
            raise WeComCryptoError("回调签名（msg_signature）校验失败")

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The URL-verification GET: check the signature and return the decrypted echostr."""
        return self.decrypt(msg_signature, timestamp, nonce, echostr)

    def decrypt(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """Check ``msg_signature`` and return the plaintext message (usually XML)."""
        self.check_signature(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt_payload(encrypt)

    def decrypt_payload(self, encrypt: str) -> str:
        try:
            data = base64.b64decode(encrypt, validate=True)
            if not data or len(data) % 16:
                raise ValueError("length")
            dec = self._cipher().decryptor()
            plain = _unpad(dec.update(data) + dec.finalize())
            (length,) = struct.unpack(">I", plain[16:20])
            message, receive_id = plain[20 : 20 + length], plain[20 + length :]
            if len(message) != length:
                raise ValueError("length")
            text = message.decode("utf-8")
        except (ValueError, struct.error, UnicodeDecodeError) as exc:
            raise WeComCryptoError("回调消息解密失败") from exc
        if receive_id.decode("utf-8", "replace") != self.corp_id:
            raise WeComCryptoError("回调消息的企业 ID 与本应用不符")
        return text

    def encrypt_payload(self, message: str, random16: bytes | None = None) -> str:
        body = message.encode("utf-8")
        rnd = random16 if random16 is not None else os.urandom(16)
        if len(rnd) != 16:
            raise ValueError("random16 must be 16 bytes")
        plain = rnd + struct.pack(">I", len(body)) + body + self.corp_id.encode("utf-8")
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(_pad(plain)) + enc.finalize()).decode("ascii")

    def encrypt(self, message: str, nonce: str, timestamp: str | int | None = None,
                random16: bytes | None = None) -> dict[str, str]:
        """Encrypt a reply: returns ``{encrypt, msg_signature, timestamp, nonce}`` (the fields of the
        reply XML ``Encrypt``/``MsgSignature``/``TimeStamp``/``Nonce``)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        encrypt = self.encrypt_payload(message, random16)
        return {"encrypt": encrypt, "msg_signature": msg_signature(self.token, ts, nonce, encrypt),
                "timestamp": ts, "nonce": str(nonce)}


def _consteq(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# --- API client ---------------------------------------------------------------------------------


class _Cached:
    __slots__ = ("expires_at", "value")

    def __init__(self, value: str, expires_at: float) -> None:
        self.value = value
        self.expires_at = expires_at


def _cache_deadline(now: float, expires_in: Any) -> float:
    # Refresh a little before WeCom does: 10 % of the lifetime, at most 5 minutes.
    life = max(float(expires_in or 0), 0.0)
    return now + life - min(300.0, life * 0.1)


class WeComClient:
    """The few server APIs the copilot needs, with access_token and ticket caching (thread-safe)."""

    def __init__(self, base_url: str, corp_id: str, secret: str, *, timeout: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not corp_id or not secret:
            raise WeComError("未配置企业微信 corp_id 或应用 Secret")
        self.corp_id = corp_id
        self._secret = secret
        self._clock = clock
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self._lock = threading.RLock()  # a ticket fetch takes the token under the same lock
        self._cache: dict[str, _Cached] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WeComClient:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    # -- transport --
    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            resp = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise WeComError(f"无法连接企业微信服务器：{type(exc).__name__}") from exc
        if resp.status_code != 200:
            raise WeComError(f"企业微信服务器返回 HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError as exc:
            raise WeComError("企业微信服务器返回了无法解析的内容") from exc
        errcode = int(data.get("errcode", 0) or 0)
        if errcode:
            errmsg = str(data.get("errmsg", ""))
            hint = _ERRMSG_ZH.get(errcode, "企业微信接口调用失败")
            raise WeComError(f"{hint}（errcode {errcode}）", errcode=errcode, errmsg=errmsg)
        return data

    def _cached(self, key: str, fetch: Callable[[], tuple[str, Any]]) -> str:
        with self._lock:
            hit = self._cache.get(key)
            now = self._clock()
            if hit is not None and now < hit.expires_at:
                return hit.value
            value, expires_in = fetch()
            self._cache[key] = _Cached(value, _cache_deadline(now, expires_in))
            return value

    def _forget(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)

    def _with_token(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """Call an API that needs access_token; on an expired/invalid token refresh once and retry."""
        for attempt in (1, 2):
            try:
                return self._get(path, {**params, "access_token": self.access_token()})
            except WeComError as exc:
                if exc.errcode in _TOKEN_EXPIRED_CODES and attempt == 1:
                    self._forget("access_token")
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- APIs --
    def access_token(self) -> str:
        """``GET /cgi-bin/gettoken`` → access_token, cached until shortly before ``expires_in``."""
        def fetch() -> tuple[str, Any]:
            data = self._get("/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self._secret})
            if not data.get("access_token"):
                raise WeComError("企业微信未返回 access_token")
            return str(data["access_token"]), data.get("expires_in", 7200)

        return self._cached("access_token", fetch)

    def get_user_info(self, code: str) -> str:
        """Sidebar OAuth code → the member's WeCom userid. Non-members are refused."""
        if not code or len(code) > 512:
            raise WeComError("登录授权码缺失或过长")
        data = self._with_token("/cgi-bin/auth/getuserinfo", {"code": code})
        userid = data.get("userid") or data.get("UserId")  # older API versions used UserId
        if not userid:
            raise WeComError("该企业微信账号不是本企业成员，无法登录", errcode=None)
        return str(userid)

    def get_jsapi_ticket(self) -> str:
        """``GET /cgi-bin/get_jsapi_ticket`` (the corp ticket, for ``ww.config``), cached."""
        def fetch() -> tuple[str, Any]:
            data = self._with_token("/cgi-bin/get_jsapi_ticket", {})
            return self._ticket_of(data)

        return self._cached("jsapi_ticket", fetch)

    def get_agent_ticket(self) -> str:
        """``GET /cgi-bin/ticket/get?type=agent_config`` (the app ticket, for ``ww.agentConfig``)."""
        def fetch() -> tuple[str, Any]:
            data = self._with_token("/cgi-bin/ticket/get", {"type": "agent_config"})
            return self._ticket_of(data)

        return self._cached("agent_ticket", fetch)

    @staticmethod
    def _ticket_of(data: dict[str, Any]) -> tuple[str, Any]:
        if not data.get("ticket"):
            raise WeComError("企业微信未返回 jsapi_ticket")
        return str(data["ticket"]), data.get("expires_in", 7200)

    def js_sdk_config(self, url: str, *, agent_id: str = "", noncestr: str | None = None,
                      timestamp: int | None = None) -> dict[str, Any]:
        """Everything the sidebar page passes to ``ww.config``/``ww.agentConfig`` for ``url``."""
        nonce = noncestr or secrets.token_urlsafe(12)
        ts = int(time.time()) if timestamp is None else timestamp
        config: dict[str, Any] = {
            "corpid": self.corp_id, "timestamp": ts, "nonceStr": nonce,
            "signature": js_sdk_signature(self.get_jsapi_ticket(), nonce, ts, url),
        }
        if agent_id:
            config["agentid"] = agent_id
            config["agentSignature"] = js_sdk_signature(self.get_agent_ticket(), nonce, ts, url)
        return config
