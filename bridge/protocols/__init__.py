"""ASGI protocol state machines: HTTP, lifespan, WebSocket."""
