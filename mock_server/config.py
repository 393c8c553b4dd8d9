"""Loading settings: defaults, then a TOML config file, then FLUX2_MOCK_* env, then flags.

`Settings` checks its own fields; the checks that need a feature's data (plans, profiles,
callback hosts) run here, above the features, once the settings are whole.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mock_server.callbacks.sender import check_callback_settings
from mock_server.domain.profiles import get_profile
from mock_server.paid.checks import check_paid_settings
from mock_server.settings import ENV_PREFIX, Settings, SettingsError


def check_settings(settings: Settings) -> Settings:
    """Return `settings` once every feature accepts them; else raise SettingsError."""
    for check in (check_paid_settings, check_callback_settings,
                  lambda s: get_profile(s.profile)):
        try:
            check(settings)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
    return settings


def load_settings(*, config_file: str | None = None, env: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build settings from defaults, a config file, prefixed env vars, then explicit overrides."""
    env = os.environ if env is None else env  # the command line reads the environment
    settings = Settings()
    config_file = config_file or env.get(ENV_PREFIX + "CONFIG")
    if config_file:
        try:
            data = tomllib.loads(Path(config_file).read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"config file {config_file}: {exc}") from None
        settings = _checked(settings.updated(data.get("flux2-mock", data),
                                             source=f"config {config_file}"),
                            f"config {config_file}")
    from_env = {k[len(ENV_PREFIX):].lower(): v for k, v in env.items()
                if k.startswith(ENV_PREFIX) and k != ENV_PREFIX + "CONFIG"}
    if from_env:
        settings = _checked(settings.updated(from_env, source="environment"), "environment")
    if overrides:
        settings = _checked(settings.updated({k: v for k, v in overrides.items()
                                              if v is not None}, source="command line"),
                            "command line")
    return check_settings(settings)


def _checked(settings: Settings, source: str) -> Settings:
    """Check `settings` as they stand after one source, naming that source on failure."""
    try:
        return check_settings(settings)
    except SettingsError as exc:
        raise SettingsError(f"{source}: {exc}") from None
