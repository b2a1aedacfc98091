"""POST /v1/schedules: a plan with every post checked, as JSON or CSV/ICS downloads, audited."""

from __future__ import annotations

import csv
import datetime as dt
import io

import icalendar
from api_support import *  # noqa: F403
from api_support import Api, error_of

PLAN = {"segment": "pension", "start": "2026-12-01", "weeks": 1}


def test_a_json_plan_has_checked_slots_and_is_audited(api: Api) -> None:
    resp = api.post("/v1/schedules", json=PLAN)
    assert resp.status_code == 200, resp.text
    plan = resp.json()
    assert plan["segment"] == "pension" and plan["start"] == "2026-12-01" and plan["end"] == "2026-12-07"
    assert plan["slots"]
    for slot in plan["slots"]:
        at = dt.datetime.fromisoformat(slot["at"])
        assert dt.date(2026, 12, 1) <= at.date() <= dt.date(2026, 12, 7)
        assert slot["verdict"] in ("pass", "revise", "block") and slot["copy"]
        # pension customers are reached only inside their windows
        assert any(
            a <= at.time() <= b
            for a, b in ((dt.time(9), dt.time(11)), (dt.time(14), dt.time(17)), (dt.time(20), dt.time(22)))
        )
    record = api.get(f"/v1/audit/{plan['audit_id']}").json()
    assert record["kind"] == "schedule" and record["actor"] == "rm1"
    assert len(record["payload"]["slots"]) == len(plan["slots"])
    assert resp.headers["x-audit-id"] == plan["audit_id"]


def test_csv_and_ics_downloads_hold_the_same_slots(api: Api) -> None:
    plan = api.post("/v1/schedules", json=PLAN).json()
    resp = api.post("/v1/schedules", json=PLAN, params={"format": "csv"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"] == 'attachment; filename="schedule-pension-2026-12-01.csv"'
    rows = [r for r in csv.DictReader(io.StringIO(resp.text)) if r["状态"] == "已排期"]
    assert sorted(r["主题"] for r in rows) == sorted(s["theme"] for s in plan["slots"])

    resp = api.post("/v1/schedules", json=PLAN, params={"format": "ics"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(resp.content)
    starts = sorted(e.decoded("dtstart") for e in cal.walk("VEVENT"))
    assert starts == sorted(dt.datetime.fromisoformat(s["at"]) for s in plan["slots"])


def test_a_tight_cap_leaves_posts_out_and_says_why(api: Api) -> None:
    plan = api.post("/v1/schedules", json={**PLAN, "weeks": 2, "cap": {"per_month": 1}}).json()
    assert plan["left_out"] and all(x["reason"] for x in plan["left_out"])
    per_group: dict[str, int] = {}
    for s in plan["slots"]:
        if s["channel"] != "moments":
            for g in s["groups"]:
                per_group[g] = per_group.get(g, 0) + 1
    assert per_group and max(per_group.values()) <= 1


def test_bad_schedule_input(api: Api) -> None:
    for body in (
        {**PLAN, "segment": "vip"},
        {**PLAN, "weeks": 0},
        {**PLAN, "weeks": 9},
        {**PLAN, "start": "2026-13-01"},
        {**PLAN, "cap": {"per_month": 40}},
    ):
        resp = api.post("/v1/schedules", json=body)
        assert resp.status_code == 422, body
        error_of(resp)
    resp = api.post("/v1/schedules", json={**PLAN, "groups": [{"id": "g 1", "segment": "pension"}]})
    assert resp.status_code == 422 and "客户群" in error_of(resp)["message"]
    resp = api.post("/v1/schedules", json=PLAN, params={"format": "pdf"})
    assert resp.status_code == 422
