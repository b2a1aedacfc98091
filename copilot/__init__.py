"""RM copilot."""
