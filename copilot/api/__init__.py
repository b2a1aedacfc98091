"""The HTTP service (FastAPI): ``/v1`` API, OpenAPI at ``/docs``, the RM chat panel at ``/``."""

from copilot.api.app import create_app

__all__ = ["create_app"]
