"""Keep credentials out of log lines: access lines, error lines and tracebacks alike.

A key can reach a log in a query string (`?apiKey=...`, documented on a few
control endpoints), in a request line a server could not parse, or in an
exception's message. `mask_text` masks all three kinds of place; `MaskFilter`
applies it to every record a logging handler writes. Whatever serves the mock
installs it with `install(keys)` (gunicorn: `gunicorn_logger_class(keys)`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from mock_server.domain.keys import mask_key

# A query parameter (or header-like `name=value`) whose name says it holds a credential;
# `...Id` names (apiKeyId) are hashes, not secrets.
_SECRET_PAIR = re.compile(
    r"(?P<name>[A-Za-z0-9_.\-]*(?:key|token|secret|auth|passw)[A-Za-z0-9_.\-]*)"
    r"(?P<eq>=|%3[Dd])(?P<value>[^&;\s'\"<>]*)", re.IGNORECASE)
_BEARER = re.compile(r"(?P<scheme>\b(?:Bearer|Basic|Token)\s+)(?P<value>[^\s'\",;]+)",
                     re.IGNORECASE)


def mask_query(query: str) -> str:
    """Return a query string with every credential-named parameter's value masked."""
    return _SECRET_PAIR.sub(_masked_pair, query) if query else query


def _masked_pair(match: re.Match[str]) -> str:
    name, value = match.group("name"), match.group("value")
    if name.lower().endswith("id") or not value:
        return match.group(0)
    return f"{name}{match.group('eq')}{mask_key(unquote(value))}"


def mask_text(text: str, keys: Iterable[str] = ()) -> str:
    """Return `text` with the given keys, credential parameters and bearer tokens masked."""
    for key in keys:
        if key and key in text:
            text = text.replace(key, mask_key(key))
    text = _SECRET_PAIR.sub(_masked_pair, text)
    return _BEARER.sub(lambda m: m.group("scheme") + mask_key(m.group("value")), text)


class MaskFilter(logging.Filter):
    """A handler filter that masks each record's message and traceback before it is written."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        super().__init__("flux2-mock-masking")
        self.keys = tuple(sorted({k for k in keys if k}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        record.msg, record.args = mask_text(message, self.keys), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text, self.keys)
            record.exc_info = None
        return True


def install(keys: Iterable[str], loggers: Iterable[str] = ("", "gunicorn.error",
                                                           "gunicorn.access")) -> MaskFilter:
    """Add one MaskFilter to every handler of `loggers` and to logging's last resort."""
    mask = MaskFilter(keys)
    handlers = [h for name in loggers for h in logging.getLogger(name).handlers]
    if logging.lastResort is not None:  # what a logger without handlers writes through
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, MaskFilter) for f in handler.filters):
            handler.addFilter(mask)
    return mask


def gunicorn_logger_class(keys: Iterable[str]) -> type:
    """Return a gunicorn Logger class whose access and error lines are masked."""
    from gunicorn.glogging import Logger

    known = tuple(keys)

    class MaskingLogger(Logger):
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            mask = MaskFilter(known)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.addFilter(mask)
            if logging.lastResort is not None:  # the app's own warnings, written to stderr
                logging.lastResort.addFilter(mask)

    return MaskingLogger
