"""Load bench: many RMs at once against ``copilot serve`` on loopback, then an audit reconciliation.

    python bench/load.py                        # 200 RMs for 30 s + 3 local-model drafts
    python bench/load.py --rms 50 --duration 10 --no-local --json out/load.json

It starts ``copilot serve`` in a temporary data directory (the checkout's index is copied when there
is one, else the server indexes knowledge/ on start), creates the RMs, and runs an asyncio + httpx
driver: each RM loops check / search / draft (template writer) with a 3–10 s think time, while another
RM asks for a local-model draft every 10 s through the SSE stream. It reports
throughput, p50/p95/p99 per route, errors, queue rejections (503 with Retry-After, 429) and the
server's peak memory; then it stops the server and checks that ``copilot audit verify`` holds and
that the audit trail holds exactly one row per successful audited request (none lost, none doubled).
Bounded in count and time: it stops by itself. Exit status 1 on any 5xx other than a queue
rejection, a lost or duplicated audit row, or a broken chain.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHECK_TEXTS = [
    "您好，周末网点正常营业，欢迎来办理业务。",
    "阿姨，这款产品不保本，业绩比较基准不是收益承诺。理财非存款、产品有风险、投资须谨慎。",
    "这款理财保本保息，稳赚不赔",
    "本月信用卡账单日后消费，免息期最长可达56天。",
]
QUERIES = [
    "老人适合买什么理财", "大额存单多少钱起存", "信用卡分期手续费", "代发工资客户有什么专属产品", "养老理财风险等级",
]
DRAFTS = [
    ("这个养老理财保本吗？能拿到3.5%吗？", {"segment": "pension", "risk_level": "C2", "age_band": "60+"}),
    ("大额存单多少钱起存？", {"segment": "payroll", "risk_level": "C3"}),
    ("信用卡分期划算吗？", {"segment": "credit_card", "risk_level": "C3"}),
    ("网点周末开门吗？", {"segment": "branch_nearby", "risk_level": "C2"}),
]
MIX = (("check", 0.5), ("search", 0.3), ("draft", 0.2))
THINK_S = (3.0, 10.0)  # between an RM's requests; 200 RMs offer ~30 requests/s
# Above the model queue's longest wait (300 s), so what is measured is the server's answer.
CLIENT_TIMEOUT_S = 330.0


@dataclass
class Result:
    route: str
    status: int  # 0 = transport error
    seconds: float
    audit_id: str | None = None
    first_token_s: float | None = None
    detail: str = ""


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return values[k]


# --- the server --------------------------------------------------------------------------------


def prepare_data_dir(data: Path, rms: int, local_rms: int) -> dict[str, str]:
    """Copy the checkout's index if it has one; create the users; return userid -> token."""
    for src in (ROOT / ".data" / "index", ROOT / ".data" / "test-kb-cache" / "index"):
        db = src / "chroma" / "chroma.sqlite3"
        if db.is_file() and db.stat().st_size > 1_000_000:  # an index with content, not a fresh empty one
            shutil.copytree(src, data / "index")
            break
    from copilot.auth import AuthStore
    from copilot.config import Settings

    auth = AuthStore(settings=Settings(data_dir=data, content_root=ROOT))
    tokens = {}
    for n in range(rms):
        tokens[f"rm{n:03d}"] = auth.create_user(f"客户经理{n:03d}", "rm", userid=f"rm{n:03d}")[1]
    for n in range(local_rms):
        tokens[f"local{n}"] = auth.create_user(f"本地模型{n}", "rm", userid=f"local{n}")[1]
    tokens["comp"] = auth.create_user("合规", "compliance", userid="comp")[1]
    auth.engine.dispose()
    return tokens


def start_server(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "COPILOT_DATA_DIR": str(data),
        "COPILOT_CONTENT_ROOT": str(ROOT),
        "COPILOT_WRITER": "template",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    env.pop("COPILOT_DATABASE_URL", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "copilot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--no-dev-login"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 600  # a first start without an index ingests knowledge/
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"copilot serve exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("copilot serve did not start in time")


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size so far (the local model runs in-process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the driver ----------------------------------------------------------------------------------


async def one_request(client: httpx.AsyncClient, route: str, rnd: random.Random, token: str) -> Result:
    headers = {"Authorization": f"Bearer {token}"}
    t0 = time.perf_counter()
    try:
        if route == "check":
            resp = await client.post("/v1/check", json={"text": rnd.choice(CHECK_TEXTS)}, headers=headers)
        elif route == "search":
            resp = await client.get("/v1/search", params={"q": rnd.choice(QUERIES), "k": 5}, headers=headers)
        else:
            message, customer = rnd.choice(DRAFTS)
            body = {"message": message, "customer": customer, "writer": "template"}
            resp = await client.post("/v1/drafts", json=body, headers=headers)
    except httpx.HTTPError as exc:
        return Result(route, 0, time.perf_counter() - t0, detail=repr(exc))
    seconds = time.perf_counter() - t0
    audit_id = resp.json().get("audit_id") if resp.status_code == 200 and route != "search" else None
    detail = ""
    if resp.status_code >= 400:
        detail = resp.text[:300]
        if resp.status_code in (429, 503) and "retry-after" not in resp.headers:
            detail = "NO RETRY-AFTER " + detail
    return Result(route, resp.status_code, seconds, audit_id, detail=detail)


async def rm_loop(
    client: httpx.AsyncClient, token: str, until: float, max_requests: int, seed: int, run: Run
) -> None:
    rnd = random.Random(seed)
    routes, weights = zip(*MIX, strict=True)
    await asyncio.sleep(rnd.uniform(0, 2))  # RMs do not all start in the same millisecond
    for _ in range(max_requests):
        if time.monotonic() >= until:
            return
        run.results.append(await one_request(client, rnd.choices(routes, weights)[0], rnd, token))
        await asyncio.sleep(rnd.uniform(*THINK_S))  # reading the answer, typing to the customer


async def local_stream(base: str, token: str) -> Result:
    """One local-model draft through the SSE stream: time to first token and to the final event."""
    message, customer = DRAFTS[0]
    t0 = time.perf_counter()
    first: float | None = None
    final: dict[str, Any] | None = None
    try:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=CLIENT_TIMEOUT_S) as c:
            body = {"message": message, "customer": customer, "writer": "local"}
            async with c.stream("POST", "/v1/drafts/stream", json=body) as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    return Result("draft_local", resp.status_code, time.perf_counter() - t0, detail=resp.text[:300])
                event = ""
                async for line in resp.aiter_lines():
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:"):
                        if event == "token" and first is None:
                            first = time.perf_counter() - t0
                        elif event == "final":
                            final = json.loads(line.split(":", 1)[1])
    except httpx.HTTPError as exc:
        return Result("draft_local", 0, time.perf_counter() - t0, detail=repr(exc))
    seconds = time.perf_counter() - t0
    if final is None:
        return Result("draft_local", 200, seconds, first_token_s=first, detail="no final event")
    detail = f"writer={final.get('writer')} sendable={final.get('sendable')}"
    return Result("draft_local", 200, seconds, final.get("audit_id"), first, detail)


async def local_loop(base: str, tokens: list[str], until: float, every_s: float, max_n: int, run: Run) -> None:
    tasks = []
    for n in range(max_n):
        if time.monotonic() >= until:
            break
        tasks.append(asyncio.create_task(local_stream(base, tokens[n % len(tokens)])))
        await asyncio.sleep(every_s)
    for result in await asyncio.gather(*tasks):
        run.results.append(result)


async def warm_up(base: str, tokens: dict[str, str], local: bool) -> Run:
    """One request per route before the clock starts: loading the embedding model, the rule packs
    and the embedded model is start-up cost, not load. Their audit rows are counted like any other."""
    warm = Run()
    rnd = random.Random(0)
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        for route in ("search", "check", "draft"):
            warm.results.append(await one_request(client, route, rnd, tokens["comp"]))
    if local:
        warm.results.append(await local_stream(base, tokens["comp"]))
    bad = [r for r in warm.results if r.status != 200]
    if bad:
        raise SystemExit(f"warm-up failed: {bad}")
    return warm


async def drive(base: str, tokens: dict[str, str], args: argparse.Namespace) -> Run:
    rms = [t for u, t in tokens.items() if u.startswith("rm")]
    local_tokens = [t for u, t in tokens.items() if u.startswith("local")]
    # One client for all RMs (200 clients cost seconds of set-up each on a busy machine). No
    # keep-alive: reusing a connection just as uvicorn closes it for idleness (5 s) would count a
    # client-side race as a server error.
    limits = httpx.Limits(max_connections=len(rms) + 8, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=CLIENT_TIMEOUT_S, limits=limits) as client:
        run = Run(started=time.perf_counter())
        until = time.monotonic() + args.duration
        jobs = [rm_loop(client, tok, until, args.max_per_rm, args.seed + i, run) for i, tok in enumerate(rms)]
        if local_tokens:
            jobs.append(local_loop(base, local_tokens, until, args.local_every, args.local_max, run))
        await asyncio.gather(*jobs)
        run.ended = time.perf_counter()
    return run


# --- audit reconciliation ------------------------------------------------------------------------


def reconcile(data: Path, run: Run, warm: Run) -> dict[str, Any]:
    from copilot.config import Settings
    from copilot.store import AuditStore

    env = {**os.environ, "COPILOT_DATA_DIR": str(data), "COPILOT_CONTENT_ROOT": str(ROOT),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("COPILOT_DATABASE_URL", None)
    verify = subprocess.run([sys.executable, "-m", "copilot.cli", "audit", "verify"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    store = AuditStore(settings=Settings(data_dir=data, content_root=ROOT))
    result = store.verify()
    stored: Counter[str] = Counter(r["audit_id"] for r in store.iter_rows())
    returned = [r.audit_id for r in warm.results + run.results if r.audit_id]
    store.engine.dispose()
    ids = set(returned)
    return {
        "cli_verify_exit": verify.returncode,
        "cli_verify_output": (verify.stdout + verify.stderr).strip()[-500:],
        "chain_ok": result.ok,
        "rows": result.rows,
        "successful_audited_requests": len(returned),
        "lost": len(ids - set(stored)),
        "duplicated": sum(n - 1 for n in stored.values() if n > 1) + (len(returned) - len(ids)),
        "unacknowledged_rows": len(set(stored) - ids),
    }


# --- report --------------------------------------------------------------------------------------


def summarise(run: Run, peak_mb: float, audit: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    wall = run.ended - run.started
    by_route: dict[str, list[Result]] = defaultdict(list)
    for r in run.results:
        by_route[r.route].append(r)
    routes = {}
    for route, rs in sorted(by_route.items()):
        ok = [r.seconds for r in rs if r.status == 200]
        routes[route] = {
            "requests": len(rs),
            "ok": len(ok),
            "rejected_503": sum(r.status == 503 for r in rs),
            "rejected_429": sum(r.status == 429 for r in rs),
            "errors_4xx": sum(400 <= r.status < 500 and r.status != 429 for r in rs),
            "errors_5xx": sum(r.status >= 500 and r.status != 503 for r in rs),
            "transport_errors": sum(r.status == 0 for r in rs),
            "p50_ms": round(_pct(ok, 50) * 1000, 1) if ok else None,
            "p95_ms": round(_pct(ok, 95) * 1000, 1) if ok else None,
            "p99_ms": round(_pct(ok, 99) * 1000, 1) if ok else None,
            "mean_ms": round(statistics.fmean(ok) * 1000, 1) if ok else None,
        }
        firsts = [r.first_token_s for r in rs if r.first_token_s is not None]
        if firsts:
            routes[route]["first_token_p50_ms"] = round(_pct(firsts, 50) * 1000, 1)
            routes[route]["first_token_p95_ms"] = round(_pct(firsts, 95) * 1000, 1)
            routes[route]["outcomes"] = dict(Counter(r.detail for r in rs))
    ok_total = sum(v["ok"] for v in routes.values())
    samples = {f"{r.route} {r.status}": r.detail for r in run.results if r.status >= 400 or r.status == 0}
    return {
        "config": {"rms": args.rms, "duration_s": args.duration, "max_per_rm": args.max_per_rm,
                   "local_drafts": args.local_max if not args.no_local else 0, "cpus": os.cpu_count()},
        "wall_s": round(wall, 1),
        "requests": len(run.results),
        "throughput_ok_per_s": round(ok_total / wall, 1) if wall else None,
        "routes": routes,
        "server_peak_rss_mb": round(peak_mb, 1),
        "audit": audit,
        "error_samples": dict(list(samples.items())[:10]),
    }


def markdown(s: dict[str, Any]) -> str:
    c = s["config"]
    lines = [
        f"{c['rms']} RMs for {c['duration_s']} s (+ {c['local_drafts']} local-model drafts), {c['cpus']} cores: "
        f"{s['requests']} requests in {s['wall_s']} s, {s['throughput_ok_per_s']} successful/s; "
        f"server peak RSS {s['server_peak_rss_mb']} MB.",
        "",
        "| route | requests | ok | 503 queue full | 429 | other 4xx | 5xx | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for route, v in s["routes"].items():
        lines.append(
            f"| {route} | {v['requests']} | {v['ok']} | {v['rejected_503']} | {v['rejected_429']} | "
            f"{v['errors_4xx']} | {v['errors_5xx'] + v['transport_errors']} | "
            f"{v['p50_ms']} | {v['p95_ms']} | {v['p99_ms']} |"
        )
    for route, v in s["routes"].items():
        if "first_token_p50_ms" in v:
            lines.append(f"\n{route}: first token p50 {v['first_token_p50_ms']} ms, p95 {v['first_token_p95_ms']} ms; "
                         f"outcomes {v['outcomes']}")
    a = s["audit"]
    lines.append(
        f"\nAudit: chain {'verifies' if a['chain_ok'] and a['cli_verify_exit'] == 0 else 'BROKEN'} "
        f"({a['rows']} rows); {a['successful_audited_requests']} successful audited requests, "
        f"{a['lost']} lost, {a['duplicated']} duplicated, {a['unacknowledged_rows']} rows without a success."
    )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rms", type=int, default=200, help="concurrent RMs (default 200)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    p.add_argument("--max-per-rm", type=int, default=40, help="requests per RM at most (default 40)")
    p.add_argument("--no-local", action="store_true", help="no local-model drafts")
    p.add_argument("--local-every", type=float, default=10.0, help="seconds between local-model drafts")
    p.add_argument("--local-max", type=int, default=3, help="local-model drafts at most (default 3)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", type=Path, help="write the figures as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = p.parse_args()

    from copilot.drafting.local_model import local_model_installed

    if not args.no_local and not local_model_installed():
        print("local model not installed: running without local-model drafts", file=sys.stderr)
        args.no_local = True
    work = Path(tempfile.mkdtemp(prefix="copilot-load-"))
    data = work / "data"
    data.mkdir()
    proc = None
    try:
        tokens = prepare_data_dir(data, args.rms, 0 if args.no_local else 2)
        port = _free_port()
        proc = start_server(data, port, work / "serve.log")
        base = f"http://127.0.0.1:{port}"
        print(f"server up on {base} (data {data}); driving {args.rms} RMs for {args.duration:.0f} s …", file=sys.stderr)
        hard_limit = args.duration + 2 * CLIENT_TIMEOUT_S  # in-flight requests finish or time out
        warm = asyncio.run(warm_up(base, tokens, not args.no_local))
        run = asyncio.run(asyncio.wait_for(drive(base, tokens, args), timeout=hard_limit))
        peak = peak_rss_mb(proc.pid)
        proc.send_signal(signal.SIGINT)  # a clean uvicorn shutdown
        proc.wait(timeout=60)
        audit = reconcile(data, run, warm)
        summary = summarise(run, peak, audit, args)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(markdown(summary))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    a = summary["audit"]
    bad_5xx = sum(v["errors_5xx"] + v["transport_errors"] for v in summary["routes"].values())
    failed = bad_5xx or a["lost"] or a["duplicated"] or not a["chain_ok"] or a["cli_verify_exit"] != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
