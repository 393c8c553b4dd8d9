"""The callback sender's pure parts and one delivery attempt.

What a callback says (the documented envelopes), which hosts the sender may
reach (`callback_allowed_hosts`), which callback URLs submit refuses
(`callback_reject_private`), and one POST: http(s) only, no redirects, no
proxies, a time-out, and a socket connected to the very address the allowlist
checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, urlsplit

from mock_server import __version__
from mock_server.callbacks.ip_literals import (
    host_address,
    looks_numeric,
    non_public_reason,
    normal_host,
)

if TYPE_CHECKING:
    from mock_server.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"),
                                 ipaddress.ip_network("::1/128"))
# The docs' field order of each callback's `data` (it differs from the status answer's).
SUCCESS_FIELDS = ("taskId", "state", "resultJson", "completeTime", "createTime", "costTime")
FAILURE_FIELDS = ("taskId", "state", "failCode", "failMsg", "completeTime", "createTime",
                  "costTime")
USER_AGENT = f"flux2-mock/{__version__} (callback sender)"
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?)+$")
_NOT_PUBLIC_SUFFIXES = (".localhost", ".local", ".internal", ".invalid", ".test", ".example",
                        ".localdomain", ".home.arpa", ".lan", ".intranet", ".corp", ".private")
# What a request target may show as it is; anything else (non-ASCII, controls) is %-encoded.
_TARGET_SAFE = "/?#[]@!$&'()*+,;=:%~"


def resolve(host: str, port: int) -> list[str]:
    """Return every address `host` resolves to now (tests replace this to fake a DNS answer)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def callback_payload(data: dict[str, Any], *, failure_envelope: str = "flux-2") -> dict[str, Any]:
    """Return the callback body for a finished task's status `data`, as the docs show it."""
    order: tuple[str, ...]
    if data["state"] == "success":
        code, message, order = 200, "success", SUCCESS_FIELDS
    elif data["state"] == "failed":
        # The Flux-2 page shows 400/"failed"; apixo's webhooks page shows 200/"success".
        code, message = (400, "failed") if failure_envelope == "flux-2" else (200, "success")
        order = FAILURE_FIELDS
    else:
        raise ValueError(f"a {data['state']} task has no callback yet")
    return {"code": code, "message": message, "data": {name: data[name] for name in order}}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# -- where the sender may go ----------------------------------------------------------------

class HostNotAllowed(Exception):
    """A callback URL whose host is outside `callback_allowed_hosts`; it is never contacted."""


@dataclass(frozen=True)
class HostPolicy:
    """`callback_allowed_hosts`: `loopback`, host names, IPs and CIDRs; empty allows any host.

    With `reject_private` every address a host resolves to at delivery time must be public
    too: a name that passed submit may resolve to a private or loopback address later.
    """

    entries: tuple[str, ...] = ()
    networks: tuple[Network, ...] = ()
    names: frozenset[str] = frozenset()
    reject_private: bool = False

    @classmethod
    def parse(cls, entries: Iterable[str], *, reject_private: bool = False) -> HostPolicy:
        """Read allowlist entries; raise ValueError naming one that is none of the forms."""
        kept = tuple(e.strip() for e in entries if e.strip())
        networks: list[Network] = []
        names: set[str] = set()
        for entry in kept:
            if entry.lower() == "loopback":
                networks.extend(LOOPBACK)
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if not _HOSTNAME.match(entry.lower()):
                    raise ValueError(f"callback_allowed_hosts: {entry!r} is not 'loopback', "
                                     f"a host name, an IP address or a CIDR") from None
                names.add(entry.lower().rstrip("."))
        return cls(kept, tuple(networks), frozenset(names), reject_private)

    def allows_address(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.networks)

    def checked_address(self, host: str, port: int) -> str:
        """Resolve `host` and return the address to connect to, once EVERY address passed.

        An IP literal in any spelling is read here, never by a resolver: the address the
        policy judged is the one connected to. With an allowlist, a name is looked up only
        when it is listed (or is `localhost`): no DNS query for a name it cannot admit.
        """
        host = host.strip("[]").lower().rstrip(".")
        listed = host in self.names
        literal = host_address(host)
        try:
            if literal is not None:
                addresses = [str(literal)]
            elif self.entries and not listed and not _is_localhost(host):
                raise HostNotAllowed(f"host not allowed: {host} is a name not listed in "
                                     f"callback_allowed_hosts ({self.describe()}); names "
                                     f"are looked up only when listed")
            elif host.endswith(".invalid"):  # RFC 6761: never resolves, never ask
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            else:
                addresses = resolve(host, port)
        except UnicodeError:
            raise HostNotAllowed(f"host not allowed: {host!r} is not a name a resolver "
                                 f"can look up") from None
        except socket.gaierror as exc:
            if self.entries and not listed:
                raise HostNotAllowed(f"host not allowed: {host} does not resolve, and is not "
                                     f"in callback_allowed_hosts ({self.describe()})") from None
            raise OSError(f"cannot resolve {host}: {exc.strerror or exc}") from None
        if self.reject_private:
            for address in addresses:
                reason = non_public_reason(ipaddress.ip_address(address))
                if reason:  # checked on every attempt: a DNS answer may change after submit
                    raise HostNotAllowed(f"host not allowed: {host} resolves to {address}, "
                                         f"{reason} (callback_reject_private is on)")
        if self.entries and not listed:
            refused = [a for a in addresses if not self.allows_address(a)]
            if refused or not addresses:
                raise HostNotAllowed(f"host not allowed: {host} resolves to "
                                     f"{', '.join(refused) or 'nothing'}, outside "
                                     f"callback_allowed_hosts ({self.describe()})")
        return addresses[0]

    def describe(self) -> str:
        return ", ".join(self.entries) or "any host"


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def private_reason(url: str) -> str | None:
    """Say why the real API could not reach `url` from the internet, or None if it might."""
    try:
        parts = urlsplit(url)
        raw_host = parts.hostname or ""
        parts.port  # noqa: B018 - raises for a port that is no number or out of range
    except ValueError as exc:
        return f"host of {url[:80]!r} cannot be read: {exc}"
    host = normal_host(raw_host)
    if "%" in host and ":" not in host:
        return f"host {host} is percent-encoded; send it plainly"
    ip = host_address(host)
    if ip is None:
        # Names are not resolved here: submit must never wait on a DNS server (the sender
        # checks every address a name resolves to when it delivers).
        if looks_numeric(host):
            return f"host {host} ends in a number but is no valid IPv4 address"
        if host == "localhost" or host.endswith(_NOT_PUBLIC_SUFFIXES):
            return f"host {host} is a local name"
        if "." not in host:
            return f"host {host} is a single-label name, not publicly resolvable"
        return None
    reason = non_public_reason(ip)
    if reason is None:
        return None
    return f"host {host} is {reason}" if host == str(ip) else f"host {host} means {ip}, {reason}"


def check_callback_settings(settings: Settings) -> None:
    """Raise ValueError naming the first callback setting that cannot work."""
    HostPolicy.parse(settings.callback_allowed_hosts)
    for text in settings.callback_retry_s or ():
        try:
            ok = float(text) >= 0
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"callback_retry_s must list seconds >= 0, got {text!r}")
    if settings.callback_timeout_s is not None and not settings.callback_timeout_s > 0:
        raise ValueError(f"callback_timeout_s must be above 0, got {settings.callback_timeout_s}")
    if settings.callback_max_retries < 0:
        raise ValueError(f"callback_max_retries must be 0 or more, "
                         f"got {settings.callback_max_retries}")


# -- one attempt ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """What one POST got: an HTTP status, or an error; `final` when retrying cannot help."""

    status: int | None
    error: str | None
    latency_ms: int
    contacted: bool = True
    final: bool = False

    @property
    def delivered(self) -> bool:
        # The webhooks page: the receiver must answer HTTP 200 (not any 2xx).
        return self.status == 200


class Sender:
    """Makes delivery attempts on an asyncio loop: many at once, none blocking another."""

    def __init__(self, policy: HostPolicy, *, max_response_bytes: int = 65_536) -> None:
        self.policy = policy
        self.max_response_bytes = max_response_bytes
        self._tls = ssl.create_default_context()

    async def post(self, url: str, body: bytes, timeout_s: float) -> Result:
        """POST `body` as JSON to `url` once; never raises for anything the receiver does."""
        started = time.monotonic()
        try:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme not in ("http", "https") or not parts.hostname:
                return Result(None, "not an absolute http(s) URL", 0, False, final=True)
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:  # a bracketed host that is no IPv6 address, a bad port
            return Result(None, f"not a well-formed URL: {exc}"[:240], 0, False, final=True)
        try:
            address = await self._checked_address(parts.hostname, port)
        except HostNotAllowed as exc:
            return Result(None, str(exc), 0, False, final=True)
        except (OSError, ValueError) as exc:
            return Result(None, str(exc), _since(started), False)
        try:
            # The whole attempt, connect to answer, has one time-out (the webhooks page's
            # "HTTP 200 within 30 s"), not one per socket operation.
            status = await asyncio.wait_for(self._exchange(parts, port, address, body),
                                            timeout_s)
            return Result(status, None, _since(started))
        except TimeoutError:
            return Result(None, f"no answer within {timeout_s:g} s", _since(started))
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            return Result(None, f"connection error: {type(exc).__name__}: {exc}"[:240],
                          _since(started))

    async def _checked_address(self, host: str, port: int) -> str:
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:  # a name: resolving may block, so not on the loop
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, self.policy.checked_address, host, port)
        return self.policy.checked_address(host, port)

    async def _exchange(self, parts: SplitResult, port: int, address: str, body: bytes) -> int:
        """Connect to the checked `address` itself (never a second DNS answer), POST, read."""
        host = parts.hostname or ""
        if not host.isascii():
            host = host.encode("idna").decode("ascii")  # UnicodeError: a ValueError, journaled
        tls = parts.scheme.lower() == "https"
        reader, writer = await asyncio.open_connection(
            address, port, ssl=self._tls if tls else None, server_hostname=host if tls else None)
        try:
            authority = f"[{host}]" if ":" in host else host
            if parts.port:
                authority += f":{parts.port}"
            # As browsers do: a non-ASCII or control character is sent %-encoded as UTF-8.
            target = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                           safe=_TARGET_SAFE, errors="replace")
            writer.write(
                f"POST {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n".encode("latin-1") + body)
            await writer.drain()
            status = _status(await reader.readline())
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length" and _is_number(value.strip()):
                    length = int(value.strip())
            # Read the body we were told of (bounded) so the receiver's write completes;
            # a redirect's Location is never followed.
            if length:
                await reader.read(min(length, self.max_response_bytes))
            return status
        finally:
            writer.close()


def _status(line: bytes) -> int:
    parts = line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not _is_number(parts[1].strip()):
        raise ValueError(f"not an HTTP status line: {line[:80]!r}")
    return int(parts[1])


def _is_number(text: str) -> bool:
    # str.isdigit() is true of "²" and "٣", which int() refuses.
    return text.isascii() and text.isdigit() and len(text) <= 18


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
