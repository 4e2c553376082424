"""Persistence: the append-only event log, the per-call projection, rejects and tokens."""
