"""A FastAPI app.

Locally:   python -m bridge serve examples/fastapi_app.py:app
On Lambda: handler = bridge.Bridge(app)
"""

from fastapi import FastAPI, Request, Response

app = FastAPI()


@app.get("/")
def hello(name: str = "world") -> dict[str, str]:
    return {"message": f"Hello, {name}!"}


@app.post("/echo")
async def echo(request: Request) -> Response:
    content_type = request.headers.get("content-type", "application/octet-stream")
    return Response(await request.body(), media_type=content_type)
