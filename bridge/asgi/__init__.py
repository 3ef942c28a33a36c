"""Serving ASGI applications on the one process-wide event loop.

* :mod:`bridge.asgi.runner`: ``ASGIRunner``, what ``Bridge(asgi_app)`` uses.
* :mod:`bridge.asgi.loop`: the loop, created once and reused.
* :mod:`bridge.asgi.http`: the HTTP request/response cycle, a state machine.
* :mod:`bridge.asgi.lifespan`: startup and shutdown, once per process.
"""
