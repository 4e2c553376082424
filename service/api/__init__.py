"""HTTP and websocket routes: thin shells over the store, the live view and the pure core."""
