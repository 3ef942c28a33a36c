"""ASGI protocol state machines: HTTP, lifespan."""
