"""tcpr-assist: real-time telecommunicator CPR assist for 911 centres."""

__version__ = "0.1.0"
