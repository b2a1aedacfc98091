"""The one error the harness raises for bad input (missing or malformed golden sets, data, thresholds)."""

from __future__ import annotations


class EvalInputError(ValueError):
    """Bad evaluation input; the message is Chinese and names the file (and line or field)."""
