"""The reference client now ships in the package: `mock_server.examples.flux2_client`.

Copy mock_server/examples/flux2_client.py into your project; this file keeps old imports working.
"""

from mock_server.examples.flux2_client import (  # noqa: F401
    CallbackReceiver,
    Flux2Client,
    Flux2Error,
    TaskFailed,
    TaskTimedOut,
)
