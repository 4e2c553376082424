"""What the test folders share: the service harness (databases, a real server, tokens, panels)
and the multi-process cluster helpers."""
