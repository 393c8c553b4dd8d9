"""Settings precedence (defaults < TOML < env < overrides) and messages that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.config import load_settings
from mock_server.settings import DEFAULT_API_KEY, Settings, SettingsError


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mock.toml"
    path.write_text('profile = "realistic"\nseed = 11\nfailure_rate = 0.25\n'
                    'api_keys = ["from-file"]\nport = 9001\n', "utf-8")
    return path


def test_defaults() -> None:
    settings = load_settings(env={})
    assert settings == Settings()
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 2)
    assert settings.api_keys == (DEFAULT_API_KEY,)
    assert settings.profile == "fast" and settings.seed is None
    assert settings.result_url_ttl_s == 24 * 3600
    assert settings.access_log is False


def test_config_file_overrides_defaults(config: Path) -> None:
    settings = load_settings(config_file=str(config), env={})
    assert (settings.profile, settings.seed, settings.failure_rate) == ("realistic", 11, 0.25)
    assert settings.api_keys == ("from-file",)
    assert settings.port == 9001


def test_config_file_may_use_a_flux2_mock_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject-like.toml"
    path.write_text('[flux2-mock]\nprofile = "instant"\n', "utf-8")
    assert load_settings(config_file=str(path), env={}).profile == "instant"


def test_env_overrides_config_and_overrides_beat_env(config: Path) -> None:
    env = {"FLUX2_MOCK_PROFILE": "instant", "FLUX2_MOCK_SEED": "12",
           "FLUX2_MOCK_API_KEYS": "a, b", "UNRELATED": "x"}
    settings = load_settings(config_file=str(config), env=env)
    assert (settings.profile, settings.seed, settings.api_keys) == ("instant", 12, ("a", "b"))
    assert settings.failure_rate == 0.25  # only in the file
    final = load_settings(config_file=str(config), env=env,
                          overrides={"seed": 13, "profile": None, "port": 0})
    assert (final.seed, final.profile, final.port) == (13, "instant", 0)


def test_env_names_the_config_file(config: Path) -> None:
    env = {"FLUX2_MOCK_CONFIG": str(config)}
    assert load_settings(env=env).profile == "realistic"


@pytest.mark.parametrize(("env", "words"), [
    ({"FLUX2_MOCK_PROFILE": "slowish"}, "environment: profile must be one of"),
    ({"FLUX2_MOCK_SEED": "abc"}, "environment: seed must be a whole number"),
    ({"FLUX2_MOCK_FAILURE_RATE": "1.5"}, "environment: failure_rate must be between 0 and 1"),
    ({"FLUX2_MOCK_ACCESS_LOG": "maybe"}, "environment: access_log must be true or false"),
    ({"FLUX2_MOCK_WORKERS": "0"}, "environment: workers must be positive"),
    ({"FLUX2_MOCK_ERROR_STATUS": "teapot"}, "error_status must be one of http, 200"),
    ({"FLUX2_MOCK_API_KEYS": " , "}, "api_keys must hold at least one non-empty key"),
    ({"FLUX2_MOCK_COLOUR": "red"}, "environment: unknown setting 'colour'"),
])
def test_bad_values_name_the_setting(env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        load_settings(env=env)


def test_bad_config_file_names_the_file_and_setting(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("port = 'eighty'\n", "utf-8")
    with pytest.raises(SettingsError, match=rf"config {path}: port must be a whole number"):
        load_settings(config_file=str(path), env={})
    path.write_text("port = [", "utf-8")
    with pytest.raises(SettingsError, match=f"config file {path}"):
        load_settings(config_file=str(path), env={})
    with pytest.raises(SettingsError, match=r"config file .*missing\.toml"):
        load_settings(config_file=str(tmp_path / "missing.toml"), env={})


def test_bad_override_names_the_command_line() -> None:
    with pytest.raises(SettingsError, match="command line: failure_rate must be between"):
        load_settings(env={}, overrides={"failure_rate": -0.1})


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("true", True), ("on", True),
                                            ("0", False), ("no", False), ("OFF", False)])
def test_boolean_env_values(raw: str, value: bool) -> None:
    assert load_settings(env={"FLUX2_MOCK_STRICT_REQUIRED": raw}).strict_required is value


def test_optional_ints_accept_empty_as_unset() -> None:
    settings = load_settings(env={"FLUX2_MOCK_PENDING_MS": "", "FLUX2_MOCK_PROCESSING_MS": "5"})
    assert (settings.pending_ms, settings.processing_ms) == (None, 5)


def test_store_path_defaults_under_the_state_dir(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert Settings().store_path == str(tmp_path / "flux2-mock" / "tasks.sqlite3")
    assert Settings(store="memory").store_path == "memory"


def test_fail_codes_from_env_and_their_form() -> None:
    env = {"FLUX2_MOCK_FAIL_CODES": "NSFW_DETECTED, PROCESSING_TIMEOUT"}
    assert load_settings(env=env).fail_codes == ("NSFW_DETECTED", "PROCESSING_TIMEOUT")
    with pytest.raises(SettingsError, match=r"fail_codes must be letters, .*got 'not a code'"):
        load_settings(env={"FLUX2_MOCK_FAIL_CODES": "OK_CODE,not a code"})
