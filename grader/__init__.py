"""Grading core: exercise specs, sandbox, harness, judge and CLI. No Django."""
