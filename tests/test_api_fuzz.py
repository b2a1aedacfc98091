"""API fuzzing with schemathesis over the served OpenAPI: every operation, valid and invalid input,
anonymously and as each role (rm, compliance, admin), against the real app on a real index.

Asserted for every response: no 5xx; a rejection (4xx) has the common error shape with a Chinese
message; nothing that a browser would render as HTML echoes input markup. The number of examples
is bounded (``COPILOT_FUZZ_EXAMPLES`` per operation and generation mode) so CI stays within
about a minute on two cores; ``COPILOT_FUZZ_EXAMPLES=200`` makes a deeper local run.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fakes.wecom_server import FakeWeComServer
from fakes.wecom_vectors import CB_AES_KEY, CB_CORP, CB_TOKEN
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from ops_support import Served, private_content, serve_app
from pydantic import SecretStr
from schemathesis import GenerationMode

from copilot.config import Settings

EXAMPLES = int(os.environ.get("COPILOT_FUZZ_EXAMPLES", "8"))
ROLES = (None, "rm1", "comp1", "admin1")  # anonymous, rm, compliance, admin
CJK = re.compile(r"[\u4e00-\u9fff]")
MARKUP = re.compile(r"<\s*[a-zA-Z!/]")
# Media types a browser renders as a page (or runs): input markup must never come back in them.
RENDERED = ("text/html", "application/xhtml", "image/svg", "text/xml", "application/xml")


@pytest.fixture(scope="module")
def served(kb_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One app on private copies of the content and the indexed data dir (the fuzzer uploads and
    reindexes), with WeCom configured against the fake WeCom server, served on loopback."""
    with FakeWeComServer(corp_id=CB_CORP, secret="fake-app-secret") as wecom:
        settings = private_content(
            kb_settings,
            tmp_path_factory.mktemp("fuzz"),
            wecom_base_url=wecom.base_url,
            wecom_corp_id=CB_CORP,
            wecom_agent_id="1000002",
            wecom_secret=SecretStr("fake-app-secret"),
            wecom_token=SecretStr(CB_TOKEN),
            wecom_aes_key=SecretStr(CB_AES_KEY),
        )
        with serve_app(settings) as app:
            yield app


@pytest.fixture(scope="module")
def schema(served: Served) -> Any:
    return schemathesis.openapi.from_url(served.url + "/openapi.json")


def _inputs(case: Any) -> list[str]:
    """Every string the case sends (path, query, headers, body), for the echo check."""
    out: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)

    for part in (case.path_parameters, case.query, case.body):
        walk(part)
    return out


def _header(resp: Any, name: str) -> str:
    value = resp.headers.get(name, "")  # schemathesis keeps every header as a list of values
    return value[0] if isinstance(value, list) and value else str(value or "")


def _assert_answer(case: Any, resp: Any) -> None:
    body = case.body if isinstance(case.body, dict | list | str) else ""
    where = f"{case.method} {case.formatted_path} query={case.query} body={str(body)[:300]!r}"
    status = resp.status_code
    assert status < 500, f"{status} on {where}: {resp.text[:500]}"
    ctype = _header(resp, "content-type")
    assert _header(resp, "x-content-type-options") == "nosniff", where
    if status >= 400:
        assert ctype.startswith("application/json"), f"{status} {ctype} on {where}"
        body = json.loads(resp.text)
        assert set(body) == {"error"}, f"{where}: {body}"
        err = body["error"]
        assert set(err) == {"code", "message", "detail"}, f"{where}: {body}"
        assert err["code"] and CJK.search(err["message"]), f"{status} without a Chinese message on {where}: {body}"
    if ctype.startswith(RENDERED):
        for value in _inputs(case):
            if MARKUP.search(value):
                assert value not in resp.text, f"input markup echoed in {ctype} on {where}"


def _pin_writer(case: Any) -> None:
    """The embedded model takes seconds per draft and is exercised by its own tests; here any
    request for it (or for ``auto``, which picks it) is sent to the template writer instead."""
    if isinstance(case.body, dict) and case.body.get("writer") in ("local", "auto"):
        case.body["writer"] = "template"


def _fuzz(api: Served, operation: Any, mode: GenerationMode, statuses: Counter[int]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every run: a CI failure reproduces locally
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failing request is reported as sent
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(ROLES))
    def run(case: Any, role: str | None) -> None:
        _pin_writer(case)
        resp = case.call(base_url=api.url, headers=api.auth(role), timeout=60)
        statuses[resp.status_code] += 1
        _assert_answer(case, resp)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_server_errors_and_clear_rejections(served: Served, schema: Any, mode: GenerationMode) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20  # every /v1 route is in the served schema
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for op in operations:
        t0 = time.perf_counter()
        try:
            _fuzz(served, op, mode, statuses)
        except Unsatisfiable:  # nothing about this operation can be made invalid (no inputs)
            assert mode == GenerationMode.NEGATIVE and not op.body and not op.query and not op.path_parameters
        except AssertionError as exc:  # collect every operation's failure, not only the first
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
        print(f"{op.method.upper()} {op.path}: {time.perf_counter() - t0:.1f} s")
    print(f"{mode}: statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    assert sum(statuses.values()) >= len(operations) * EXAMPLES // 2  # the fuzzer really sent requests
