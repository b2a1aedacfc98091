"""Real parts for the fuzz, fault and isolation tests: the app under uvicorn on loopback, a private
PostgreSQL instance (never the shared one), a fake model server in its own process.

Import with ``from ops_support import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import USERS

from copilot.config import CHECKOUT, Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """An app served on loopback, with a bearer token per test user (rm1, rm2, comp1, admin1)."""

    url: str
    tokens: dict[str, str]
    app: Any

    @property
    def services(self) -> Any:
        return self.app.state.services

    def auth(self, userid: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[userid]}"} if userid else {}

    def client(self, userid: str | None = "rm1", timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.auth(userid), timeout=timeout)


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """The app under uvicorn on a free loopback port: real HTTP, one event loop, one process."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not (server.started and server.servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextlib.contextmanager
def serve_app(settings: Settings, **app_kw: Any) -> Iterator[Served]:
    """``create_app(settings)`` with the four test users, served on loopback."""
    from copilot.api import create_app

    app = create_app(settings, **app_kw)
    auth = app.state.services.auth
    tokens = {userid: auth.create_user(name, role, userid=userid)[1] for userid, name, role in USERS}
    with serve_in_thread(app) as url:
        yield Served(url, tokens, app)


def private_content(kb_settings: Settings, base: Path, **update: Any) -> Settings:
    """Settings on private copies of the content folders and the indexed data dir."""
    root = base / "content"
    for folder in ("knowledge", "guardrails", "prompts"):
        shutil.copytree(CHECKOUT / folder, root / folder)
    data = base / "data"
    shutil.copytree(kb_settings.data_dir, data)
    return kb_settings.model_copy(
        update={"content_root": root, "data_dir": data, "database_url": "", "writer": "template", **update}
    )


# --- a private PostgreSQL ------------------------------------------------------------------------


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql (part of this machine)")
    return Path(found[-1]).parent


class PrivatePostgres:
    """A throw-away PostgreSQL cluster in a temp dir on its own port, run as the ``postgres`` user.

    The shared instance on 5432 is used by other jobs and must never be stopped; this one may be
    stopped, killed and restarted at will.
    """

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.base = Path(tempfile.mkdtemp(prefix="copilot-pg-"))
        os.chmod(self.base, 0o755)  # the postgres user must reach its data dir
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = free_port()
        shutil.chown(self.base, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str, timeout: float = 120) -> None:
        cmd = ["runuser", "-u", "postgres", "--", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            pytest.fail(f"{' '.join(args[:2])} failed: {done.stdout[-1000:]}{done.stderr[-2000:]}\n{log}")

    def init(self) -> PrivatePostgres:
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
            "-E", "UTF8", "--locale=C.UTF-8",
        )
        return self

    def start(self) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} -c max_connections=40"
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts,
                          "-w", "-t", "60", "start")

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: the server processes quit at once, without a checkpoint (like a crash)."""
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(BaseException):
                self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres().init()
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


# --- a fake model server in its own process ------------------------------------------------------

FAKE_MODEL_MAIN = """
import sys, time
sys.path.insert(0, sys.argv[1])
from fakes.openai_server import FakeOpenAIServer, _Handler

class Slow(_Handler):
    def _event(self, obj):  # a token every 0.2 s: long enough to be killed mid-stream
        super()._event(obj)
        time.sleep(0.2)

srv = FakeOpenAIServer()
srv._httpd.RequestHandlerClass = Slow
srv.state.default_reply = sys.argv[2]
srv.state.chunk_chars = 2
srv.start()
print(srv.base_url, flush=True)
while True:
    time.sleep(3600)
"""


@contextlib.contextmanager
def fake_model_process(reply: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A fake OpenAI-compatible model server in a child process (so it can really be SIGKILLed),
    streaming ``reply`` two characters at a time. Yields (base_url, process)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", FAKE_MODEL_MAIN, str(Path(__file__).parent), reply],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:"), base_url
        yield base_url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
