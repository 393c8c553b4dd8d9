"""The yardstick: a one-route Flask app under gunicorn with 2 plain sync workers."""

from __future__ import annotations

import argparse
from typing import Any

from flask import Flask, Response, jsonify

from mock_server.serving.server import MockServer
from mock_server.settings import Settings


def minimal_app() -> Flask:
    """Return a Flask app with one small JSON route."""
    app = Flask(__name__)

    @app.get("/ping")
    def ping() -> Response:
        return jsonify({"code": 200, "message": "success", "data": {"pong": True}})

    return app


class MinimalServer(MockServer):
    """MockServer's gunicorn configuration with gunicorn's own sync worker: the minimal app."""

    def load_config(self) -> None:
        super().load_config()
        self.cfg.set("worker_class", "sync")

    def load(self) -> Any:
        return minimal_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    MinimalServer(Settings(port=args.port, workers=args.workers, store="memory")).run()


if __name__ == "__main__":
    main()
