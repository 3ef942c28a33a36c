"""bridge: run any Python web app (WSGI or ASGI) on AWS Lambda."""

__version__ = "0.1.0"
