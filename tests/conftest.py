"""Project-wide test set-up.

Whenever the mock runs under our tests (in-process apps and `flux2-mock serve`
processes alike, which inherit this environment), its callback sender may only
reach loopback: fuzzers and property tests invent callback URLs on any host.
"""

from __future__ import annotations

import os

os.environ["FLUX2_MOCK_CALLBACK_ALLOWED_HOSTS"] = "loopback"
for name in list(os.environ):
    # A developer's own FLUX2_MOCK_* settings must not change what the tests see.
    if name.startswith("FLUX2_MOCK_") and name != "FLUX2_MOCK_CALLBACK_ALLOWED_HOSTS":
        del os.environ[name]
