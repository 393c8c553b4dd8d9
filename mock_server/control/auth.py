"""Who may use the control plane: anyone on loopback, or the holder of the admin token.

The admin token is not an API key: the API never accepts it (settings refuse a
token equal to a key) and the control plane never accepts an API key.
"""

from __future__ import annotations

import hmac

from flask import Flask, current_app, request

from mock_server.domain.errors import Unauthorized
from mock_server.domain.keys import bearer_token
from mock_server.domain.routes import is_control_path
from mock_server.settings import Settings

# Control-plane paths anyone may read: the readiness probe, and the dashboard's own files,
# which hold no data (the page sends the token with every call it makes).
OPEN_PATHS = frozenset({"/_mock/health", "/_mock/ui", "/_mock/ui/", "/_mock/ui/dashboard.js",
                        "/_mock/ui/dashboard.css"})


class AdminUnauthorized(Unauthorized):
    status, message = 401, "Admin token required"


def check_admin(settings: Settings, authorization: str | None) -> None:
    """Raise AdminUnauthorized unless the control plane is open or the header holds the token."""
    token = settings.admin_token
    if not token:
        return  # settings allow no token only on a loopback host
    challenge = {"WWW-Authenticate": 'Bearer realm="flux2-mock control plane"'}
    given = bearer_token(authorization)
    if given is None:
        raise AdminUnauthorized("the control plane needs 'Authorization: Bearer <admin token>' "
                                "(the admin token, not an API key)", headers=challenge)
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise AdminUnauthorized("the admin token is not valid", headers=challenge)


def guard_control_plane(app: Flask) -> None:
    """Make every /_mock/ path of `app` (any blueprint's) answer only with the admin token."""
    if not app.extensions["flux2_mock"].settings.admin_token:
        return  # open: settings allow this only on a loopback host

    @app.before_request
    def _admin_only() -> None:
        path = request.path
        if is_control_path(path) and path not in OPEN_PATHS:
            check_admin(current_app.extensions["flux2_mock"].settings,
                        request.headers.get("Authorization"))
