"""The ``copilot`` command line. Each area owns its commands in ``copilot/<area>/commands.py``
and registers them here, so this file stays a table of contents."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="copilot",
    help="客户经理智能助手：检索、起草、合规检查、排期、评测。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# --- command registry (one line per area) -----------------------------------------------------
from copilot.retrieval import commands as _retrieval  # noqa: E402

_retrieval.register(app)
from copilot.compliance import commands as _compliance  # noqa: E402

_compliance.register(app)
from copilot.evaluation import commands as _evaluation  # noqa: E402

_evaluation.register(app)

from copilot.store import commands as _store  # noqa: E402

_store.register(app)
from copilot.scheduling import commands as _scheduling  # noqa: E402

_scheduling.register(app)
from copilot.api import commands as _api  # noqa: E402

_api.register(app)
from copilot.drafting import commands as _drafting  # noqa: E402

_drafting.register(app)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
