"""``copilot serve`` refuses the demo sign-in anywhere but on a loopback address."""

from __future__ import annotations

from typer.testing import CliRunner

from copilot.cli import app


def test_demo_sign_in_cannot_be_enabled_on_a_public_address() -> None:
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--dev-login", "--no-ingest"])
    assert result.exit_code == 2
    assert "回环地址" in result.output


def test_serve_is_registered_with_its_options() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--no-ingest", "--dev-login"):
        assert option in result.output
