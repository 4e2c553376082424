"""The pure core: canonical events folded into call state, recognition, intervals and alerts.

Standard library only: no I/O, no clock reads. Time is always passed in.
"""
