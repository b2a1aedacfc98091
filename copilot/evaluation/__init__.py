"""The evaluation harness behind ``copilot eval``: golden sets in ``eval/``, one module per suite
(retrieval, compliance, drafting, schedule, redteam), metrics, thresholds and the report."""
