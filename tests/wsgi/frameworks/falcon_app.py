from __future__ import annotations

import falcon

from tests.wsgi.frameworks import BINARY, STREAM_CHUNKS


class Echo:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        context = req.env.get("aws.context")
        resp.media = {
            "path": req.path,
            "root": req.root_path,
            "url": req.prefix + "/echo",
            "x": req.get_param_as_list("x") or [],
            "request_id": getattr(context, "aws_request_id", None),
        }


class Form:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = req.get_media()
        tags = fields["tags"]
        resp.media = {"name": fields["name"], "tags": tags if isinstance(tags, list) else [tags]}


class Json:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"received": req.get_media()}


class Cookies:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "cookies"
        resp.set_cookie("a", "1")
        resp.set_cookie("b", "2")


class Redirect:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise falcon.HTTPFound(req.root_path + "/echo")


class Download:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "application/octet-stream"
        resp.downloadable_as = "data.bin"
        resp.data = BINARY


class Stream:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.stream = iter(STREAM_CHUNKS)


class Boom:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise RuntimeError("boom")


def make_app() -> falcon.App[falcon.Request, falcon.Response]:
    app = falcon.App()
    app.add_route("/echo", Echo())
    app.add_route("/form", Form())
    app.add_route("/json", Json())
    app.add_route("/cookies", Cookies())
    app.add_route("/redirect", Redirect())
    app.add_route("/download", Download())
    app.add_route("/stream", Stream())
    app.add_route("/boom", Boom())
    return app
