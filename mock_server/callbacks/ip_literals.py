"""Read a URL's host as resolvers and browsers do, and say whether its address is public.

`ipaddress` knows only the dotted-quad form, but `inet_aton`, `getaddrinfo` and
the WHATWG URL parser also read `127.1`, `0x7f.1`, `0177.0.0.1` and
`2130706433` as 127.0.0.1, and IDNA maps full-width digits and `。` to ASCII.
A host is judged by the address it names in any of those forms; IPv6
addresses carrying an IPv4 one (mapped, compatible, 6to4, Teredo, NAT64) are
judged by that address too.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")
_NUMERIC_LAST = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.ip_network("::/96")
_CHECKS = (("loopback", "a loopback"), ("unspecified", "an unspecified"),
           ("link_local", "a link-local"), ("multicast", "a multicast"),
           ("private", "a private"), ("reserved", "a reserved"))


def normal_host(host: str) -> str:
    """Return `host` as a resolver sees it: brackets off, IDNA-mapped, lower case, no end dot."""
    host = host.strip().removeprefix("[").removesuffix("]")
    if not host.isascii():
        host = unicodedata.normalize("NFKC", host).replace("\u3002", ".") \
            .replace("\uff0e", ".").replace("\uff61", ".")
        with contextlib.suppress(UnicodeError):  # else no resolver can ask; judged as it is
            host = host.encode("idna").decode("ascii")
    return host.lower().rstrip(".")


def ipv4_any_form(host: str) -> ipaddress.IPv4Address | None:
    """Read `host` as `inet_aton` does (1 to 4 parts, decimal, octal or hex), else None."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.match(p) for p in parts):
        return None
    values = [int(p, 16) if p[:2].lower() == "0x" and len(p) > 2 else
              0 if p[:2].lower() == "0x" else int(p, 8) if p.startswith("0") else int(p)
              for p in parts]
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for index, value in enumerate(head):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def looks_numeric(host: str) -> bool:
    """Whether browsers would read `host` as an IPv4 address (its last label is a number)."""
    last = host.rsplit(".", 1)[-1] if host else ""
    return bool(_NUMERIC_LAST.match(last))


def host_address(host: str) -> Address | None:
    """Return the address an IP-literal host names in any of its forms, or None for a name."""
    host = normal_host(host)
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    return ipv4_any_form(host)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 one carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address; the server's is public by definition
    if any(ip in net for net in _NAT64) or (ip in _COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def non_public_reason(ip: Address) -> str | None:
    """Say what kind of address `ip` is when the internet cannot reach it, else None."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "a link-scoped address (it carries a zone id)"
        inner = embedded_ipv4(ip)
        if inner is not None:
            reason = non_public_reason(inner)
            return f"an address carrying {inner}, {reason}" if reason else None
    for kind, words in _CHECKS:
        if getattr(ip, f"is_{kind}"):
            return f"{words} address"
    if ip in ipaddress.ip_network("100.64.0.0/10"):
        return "a shared (carrier-grade NAT) address"
    if not ip.is_global:
        return "not a globally routable address"
    return None
