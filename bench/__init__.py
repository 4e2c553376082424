"""Benchmarks: `python -m bench [--quick]`. Load comes from separate processes over loopback."""
