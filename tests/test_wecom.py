"""WeCom protocol pieces: published test vectors, the callback crypto, and the API client driven
against a fake WeCom server on 127.0.0.1 speaking WeCom's JSON protocol."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest
from fakes.wecom_server import FakeWeComServer
from fakes.wecom_vectors import (
    CB_AES_KEY,
    CB_CORP,
    CB_TOKEN,
    JS_NONCE,
    JS_SIGNATURE,
    JS_TICKET,
    JS_TS,
    JS_URL,
    MSG,
    VERIFY,
    VERIFY_PLAIN,
)

from copilot.wecom import (
    WeComClient,
    WeComCrypto,
    WeComCryptoError,
    WeComError,
    js_sdk_signature,
    msg_signature,
)


def test_js_sdk_signature_matches_wecom_doc_example() -> None:
    assert js_sdk_signature(JS_TICKET, JS_NONCE, JS_TS, JS_URL) == JS_SIGNATURE
    assert js_sdk_signature(JS_TICKET, JS_NONCE, str(JS_TS), JS_URL) == JS_SIGNATURE


def test_js_sdk_signature_drops_fragment_and_does_not_url_encode() -> None:
    assert js_sdk_signature(JS_TICKET, JS_NONCE, JS_TS, JS_URL + "#/chat?x=1") == JS_SIGNATURE
    url = "https://copilot.bank.cn/panel?a=中文&b=1 2"
    raw = f"jsapi_ticket=T&noncestr=N&timestamp=1&url={url}"
    assert js_sdk_signature("T", "N", 1, url) == hashlib.sha1(raw.encode()).hexdigest()


def test_msg_signature_matches_official_sample() -> None:
    assert msg_signature(CB_TOKEN, MSG["timestamp"], MSG["nonce"], MSG["encrypt"]) == MSG["msg_signature"]
    assert msg_signature(CB_TOKEN, VERIFY["timestamp"], VERIFY["nonce"], VERIFY["echostr"]) == VERIFY[
        "msg_signature"
    ]


@pytest.fixture
def crypto() -> WeComCrypto:
    return WeComCrypto(CB_TOKEN, CB_AES_KEY, CB_CORP)


def test_verify_url_decrypts_official_echostr(crypto: WeComCrypto) -> None:
    assert crypto.verify_url(VERIFY["msg_signature"], VERIFY["timestamp"], VERIFY["nonce"],
                             VERIFY["echostr"]) == VERIFY_PLAIN


def test_decrypt_official_message(crypto: WeComCrypto) -> None:
    xml = crypto.decrypt(MSG["msg_signature"], MSG["timestamp"], MSG["nonce"], MSG["encrypt"])
    assert xml.startswith("<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>")
    assert "<Content><![CDATA[hello]]></Content>" in xml
    assert "<AgentID>218</AgentID>" in xml


def test_encrypt_layout_and_round_trip(crypto: WeComCrypto) -> None:
    message = "<xml><Content><![CDATA[您好，这是一条回复]]></Content></xml>"
    rnd = b"0123456789abcdef"
    out = crypto.encrypt(message, nonce="1372623149", timestamp="1409659813", random16=rnd)
    assert out["msg_signature"] == msg_signature(CB_TOKEN, "1409659813", "1372623149", out["encrypt"])
    raw = base64.b64decode(out["encrypt"])
    assert len(raw) % 32 == 0  # WeCom pads to 32-byte blocks
    assert crypto.decrypt(out["msg_signature"], out["timestamp"], out["nonce"], out["encrypt"]) == message
    # Deterministic given the random prefix; different prefixes give different ciphertexts.
    again = crypto.encrypt(message, nonce="1", timestamp="1", random16=rnd)
    assert again["encrypt"] == out["encrypt"]
    assert crypto.encrypt(message, nonce="1", timestamp="1")["encrypt"] != out["encrypt"]


@pytest.mark.parametrize("size", [0, 1, 11, 12, 43, 44, 75, 1000])
def test_round_trip_at_block_boundaries(crypto: WeComCrypto, size: int) -> None:
    # 20 bytes of header + message + 18 bytes of corp id: sizes around multiples of 32.
    message = "x" * size
    out = crypto.encrypt(message, nonce="n", timestamp="1")
    assert crypto.decrypt(out["msg_signature"], "1", "n", out["encrypt"]) == message


def test_bad_signature_is_rejected(crypto: WeComCrypto) -> None:
    with pytest.raises(WeComCryptoError, match="签名"):
        crypto.decrypt("0" * 40, MSG["timestamp"], MSG["nonce"], MSG["encrypt"])
    with pytest.raises(WeComCryptoError):
        crypto.decrypt(MSG["msg_signature"], "1409659814", MSG["nonce"], MSG["encrypt"])


def test_other_corp_is_rejected() -> None:
    other = WeComCrypto(CB_TOKEN, CB_AES_KEY, "wwanothercorp")
    with pytest.raises(WeComCryptoError, match="企业 ID"):
        other.decrypt(MSG["msg_signature"], MSG["timestamp"], MSG["nonce"], MSG["encrypt"])


def test_corrupted_ciphertext_is_rejected(crypto: WeComCrypto) -> None:
    data = bytearray(base64.b64decode(MSG["encrypt"]))
    data[-1] ^= 0xFF  # breaks the padding
    bad = base64.b64encode(bytes(data)).decode()
    sig = msg_signature(CB_TOKEN, "1", "n", bad)
    with pytest.raises(WeComCryptoError, match="解密失败"):
        crypto.decrypt(sig, "1", "n", bad)
    for junk in ("not base64 !!", "QUJD"):
        with pytest.raises(WeComCryptoError):
            crypto.decrypt(msg_signature(CB_TOKEN, "1", "n", junk), "1", "n", junk)


def test_bad_aes_key_is_rejected() -> None:
    with pytest.raises(WeComCryptoError):
        WeComCrypto("t", "short", "corp")
    with pytest.raises(WeComCryptoError):
        WeComCrypto("t", "!" * 43, "corp")


# --- the API client against the fake server -----------------------------------------------------

CORP, SECRET = "wwfakecorp0001", "fake-app-secret"


@pytest.fixture
def wecom() -> Iterator[FakeWeComServer]:
    with FakeWeComServer(CORP, SECRET) as server:
        yield server


@pytest.fixture
def client(wecom: FakeWeComServer) -> Iterator[WeComClient]:
    with WeComClient(wecom.base_url, CORP, SECRET) as c:
        yield c


def test_access_token_is_cached(wecom: FakeWeComServer, client: WeComClient) -> None:
    first = client.access_token()
    assert first and client.access_token() == first
    assert wecom.calls["/cgi-bin/gettoken"] == 1


def test_access_token_refreshed_after_expiry() -> None:
    now = [1000.0]
    with FakeWeComServer(CORP, SECRET, token_ttl_s=7200) as server, WeComClient(
        server.base_url, CORP, SECRET, clock=lambda: now[0]
    ) as c:
        t1 = c.access_token()
        now[0] += 7200 - 301  # still inside the cache window (refresh 5 min early)
        assert c.access_token() == t1
        now[0] += 2
        t2 = c.access_token()
        assert t2 != t1
        assert server.calls["/cgi-bin/gettoken"] == 2


def test_bad_secret_and_corp_give_clear_errors(wecom: FakeWeComServer) -> None:
    with WeComClient(wecom.base_url, CORP, "wrong") as c, pytest.raises(WeComError) as err:
        c.access_token()
    assert err.value.errcode == 40001
    assert "Secret" in str(err.value)
    with WeComClient(wecom.base_url, "wwother", SECRET) as c, pytest.raises(WeComError) as err:
        c.get_user_info("whatever")
    assert err.value.errcode == 40013


def test_get_user_info_member(wecom: FakeWeComServer, client: WeComClient) -> None:
    code = wecom.issue_code("zhangsan")
    assert client.get_user_info(code) == "zhangsan"


def test_code_is_single_use(wecom: FakeWeComServer, client: WeComClient) -> None:
    code = wecom.issue_code("zhangsan")
    client.get_user_info(code)
    with pytest.raises(WeComError) as err:
        client.get_user_info(code)
    assert err.value.errcode == 40029
    assert "重新打开" in str(err.value)


def test_code_expires_after_five_minutes(wecom: FakeWeComServer, client: WeComClient) -> None:
    fresh, stale = wecom.issue_code("lisi"), wecom.issue_code("wangwu")
    wecom.advance(299)
    assert client.get_user_info(fresh) == "lisi"
    wecom.advance(2)
    with pytest.raises(WeComError) as err:
        client.get_user_info(stale)
    assert err.value.errcode == 40029


def test_non_member_is_refused(wecom: FakeWeComServer, client: WeComClient) -> None:
    code = wecom.issue_code(None, external_userid="wmEXTERNAL")
    with pytest.raises(WeComError, match="不是本企业成员"):
        client.get_user_info(code)


def test_unknown_code_and_missing_code(wecom: FakeWeComServer, client: WeComClient) -> None:
    with pytest.raises(WeComError) as err:
        client.get_user_info("never-issued")
    assert err.value.errcode == 40029
    with pytest.raises(WeComError):
        client.get_user_info("")


def test_invalidated_token_is_refreshed_once(wecom: FakeWeComServer, client: WeComClient) -> None:
    client.access_token()
    wecom.expire_all_tokens()  # WeCom forgot our token: the client must fetch a new one and retry
    assert client.get_user_info(wecom.issue_code("zhaoliu")) == "zhaoliu"
    assert wecom.calls["/cgi-bin/gettoken"] == 2
    assert wecom.calls["/cgi-bin/auth/getuserinfo"] == 2


def test_jsapi_ticket_cached_until_expiry(wecom: FakeWeComServer) -> None:
    now = [0.0]
    with WeComClient(wecom.base_url, CORP, SECRET, clock=lambda: now[0]) as c:
        t1 = c.get_jsapi_ticket()
        assert t1 == wecom.current_ticket("jsapi")
        now[0] += 3000
        assert c.get_jsapi_ticket() == t1
        assert wecom.calls["/cgi-bin/get_jsapi_ticket"] == 1
        now[0] += 7200
        t2 = c.get_jsapi_ticket()
        assert t2 != t1 and t2 == wecom.current_ticket("jsapi")


def test_js_sdk_config_signs_with_current_tickets(wecom: FakeWeComServer, client: WeComClient) -> None:
    url = "https://copilot.example.cn/panel?entry=single_chat_tools#top"
    cfg = client.js_sdk_config(url, agent_id="1000002", noncestr="abc", timestamp=1700000000)
    assert cfg["corpid"] == CORP and cfg["agentid"] == "1000002"
    assert cfg["signature"] == js_sdk_signature(wecom.current_ticket("jsapi"), "abc", 1700000000, url)
    assert cfg["agentSignature"] == js_sdk_signature(
        wecom.current_ticket("agent_config"), "abc", 1700000000, url.split("#")[0]
    )
    assert cfg["signature"] != cfg["agentSignature"]


def test_unreachable_server_is_a_clear_error() -> None:
    with FakeWeComServer(CORP, SECRET) as server:
        base = server.base_url
    with WeComClient(base, CORP, SECRET, timeout=2) as c, pytest.raises(WeComError, match="无法连接"):
        c.access_token()


def test_client_requires_configuration() -> None:
    with pytest.raises(WeComError, match="未配置"):
        WeComClient("http://127.0.0.1:1", "", "")
