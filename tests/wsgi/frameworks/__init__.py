"""One small application per framework, all with the same routes and the same
behaviour, so one set of tests checks them all:

``GET /echo``       JSON: app-relative path, root (SCRIPT_NAME), the absolute
                    URL of ``/echo`` as the framework builds it, ``x`` query
                    values, the Lambda request id
``POST /form``      JSON: the ``name`` and ``tags`` fields of a urlencoded form
``POST /json``      JSON: ``{"received": <the posted JSON>}``
``GET /cookies``    text, two ``Set-Cookie`` headers (``a=1``, ``b=2``)
``GET /redirect``   a 302 to ``/echo``
``GET /download``   ``BINARY`` as an ``application/octet-stream`` attachment
``GET /stream``     ``0\\n1\\n2\\n`` from a generator
``GET /boom``       raises
"""

BINARY = bytes(range(256)) * 4
STREAM_CHUNKS = (b"0\n", b"1\n", b"2\n")
