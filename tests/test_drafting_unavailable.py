"""An empty knowledge index: drafting refuses (a draft must rest on approved material) and the
service answers 503 with what to run, for the JSON endpoint and before the stream starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import *  # noqa: F403
from api_support import error_of, make_api

from copilot.config import Settings
from copilot.domain import CustomerProfile
from copilot.drafting import DraftingUnavailable, DraftRequest, draft_reply, ensure_ready

BODY = {
    "message": "这个养老理财保本吗？",
    "customer": {"segment": "pension", "risk_level": "C2", "age_band": "60+"},
}


def test_an_empty_index_is_unavailable_not_an_ungrounded_draft(tmp_path: Path) -> None:
    empty = Settings(data_dir=tmp_path / "empty")
    with pytest.raises(DraftingUnavailable) as info:
        ensure_ready(empty)
    assert info.value.code == "index_empty" and "copilot ingest" in str(info.value)
    assert "copilot ingest" in info.value.public and str(tmp_path) not in info.value.public
    req = DraftRequest(message=BODY["message"], customer=CustomerProfile(segment="pension"))
    with pytest.raises(DraftingUnavailable):
        draft_reply(req, writer="template", settings=empty)


def test_ready_index_passes(kb_settings: Settings) -> None:
    ensure_ready(kb_settings)  # no exception: the session index holds the knowledge base


def test_the_service_answers_503_for_drafts_and_streams(api_settings: Settings, tmp_path: Path) -> None:
    empty = api_settings.model_copy(update={"data_dir": tmp_path / "empty"})
    with make_api(empty) as api:
        for path in ("/v1/drafts", "/v1/drafts/stream"):
            resp = api.post(path, json=BODY)
            assert resp.status_code == 503, (path, resp.text)
            assert resp.headers["content-type"].startswith("application/json")  # not an event stream
            err = error_of(resp)
            assert err["code"] == "index_empty" and "copilot ingest" in err["message"]
            assert str(tmp_path) not in err["message"] and resp.headers["retry-after"]
        # nothing was drafted, nothing recorded as a draft, no queue place left taken
        assert api.services.gate.stats()["active"] == 0
        audit = api.get("/v1/audit", params={"kind": "draft"}, as_user="comp1")
        assert audit.status_code == 200 and not audit.json().get("items", audit.json())
