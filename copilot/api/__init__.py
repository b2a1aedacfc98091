"""The HTTP service (FastAPI): ``/v1`` API, OpenAPI at ``/docs``, the RM chat panel at ``/``.

    from copilot.api import create_app
    app = create_app(settings)

``create_app`` is imported on first use so ``copilot --help`` does not load FastAPI.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from copilot.api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
