"""bridge's own Lambda runtime: ``python -m bridge.runtime [HANDLER]``.

A client of the Lambda Runtime API (2018-06-01) that serves a WSGI or ASGI
app, or a :class:`~bridge.Bridge` handler, in place of AWS's runtime
interface client (awslambdaric).  See ``docs/runtime.rst``.

Unlike the rest of bridge, which never changes process-wide state it does
not own, this runtime *owns its process* by design: it installs the SIGTERM
and SIGINT handlers, runs the one event loop of the process for its whole
life, sets ``_X_AMZN_TRACE_ID`` for each invocation (when one runs at a
time), and ends the process.  Importing it changes nothing: all of that
happens once ``python -m bridge.runtime`` runs.

The modules:

* :mod:`~bridge.runtime.http`: a sans-IO HTTP/1.1 client (requests to bytes,
  bytes to responses);
* :mod:`~bridge.runtime.api`: the Runtime API's requests and answers, sans-IO;
* :mod:`~bridge.runtime.framing`: streamed responses (prelude, chunks,
  error trailers) as pure functions;
* :mod:`~bridge.runtime.stream`: the response stream that sends them;
* :mod:`~bridge.runtime.wsgi`: WSGI responses posted (or streamed) before
  the iterable's ``close()``;
* :mod:`~bridge.runtime.context`: the context object, as awslambdaric's;
* :mod:`~bridge.runtime.loader`: the handler from ``module.attr``;
* :mod:`~bridge.runtime.client`: the connection, on an asyncio protocol;
* :mod:`~bridge.runtime.arguments`: the command line;
* :mod:`~bridge.runtime.main`: the loop, the workers, the signals;
* :mod:`~bridge.runtime.processes`: ``BRIDGE_WSGI_WORKERS=processes``, a
  supervisor of worker processes, each a runtime of its own;
* :mod:`~bridge.runtime.link`: the line between a worker and its supervisor.
"""
