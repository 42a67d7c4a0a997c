"""Every outbound HTTP request the advisor and the probes make starts here.

One path, whoever asks (a load test, target discovery, server signals, the servers probe):

- ``pin(url, check=...)`` parses the URL (http or https only, no credentials), resolves its host
  once (``resolve``, the one DNS seam) and hands the addresses to ``check`` (the advisor's
  allow-list, ``advisor.loadtest.policy``) before anything connects. The result, a
  ``Destination``, carries the only addresses a request to it may use: no second look-up, so a
  name that answers differently later (DNS rebinding) reaches nothing new.
- ``get(destination, path)`` (blocking; discovery, signals, probes) and the load-test engine's
  streaming client (``advisor/loadtest/wire.py``, asyncio) connect to those addresses only.
- A redirect is never followed: a 3xx is an answer like any other, and the caller treats it as a
  failure. Nothing but http and https is spoken.
- Header values with CR, LF or NUL are refused (``check_header``): they would inject headers.
- https verifies the certificate and the host name (``tls_context``, Python's defaults).

Standalone like the rest of ``probes/`` (standard library only): the advisor imports it, never
the reverse. Errors: ``Refused`` (a ValueError) for a URL or address that may not be used;
``OSError`` (incl. ``TimeoutError``, ``ssl.SSLError``) when nothing usable answers.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = {"http": 80, "https": 443}
# RFC 9110 section 5.1: a field name is a token.
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_FORBIDDEN_IN_VALUE = ("\r", "\n", "\0")

Resolve = Callable[[str], list[str]]
# check(host, addresses, literal): raise Refused to stop the request before it connects.
Check = Callable[[str, tuple[str, ...], bool], None]


class Refused(ValueError):
    """A URL, address or header value that may not be used; the message says why."""


def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to (the one DNS seam). Unresolvable: an empty list."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    return seen


def normalize_host(host: str) -> str:
    """Lower case, without a trailing dot (``localhost.`` is ``localhost``)."""
    host = host.strip().lower()
    return host[:-1] if host.endswith(".") else host


@dataclass(frozen=True)
class Destination:
    """Where requests for one base URL may go: its scheme, host, port and checked addresses."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def authority(self) -> str:
        """The ``Host`` header: the name, bracketed when IPv6, with the port unless default."""
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == SCHEMES[self.scheme] else f"{name}:{self.port}"


def pin(url: str, *, check: Check | None = None, resolver: Resolve | None = None) -> Destination:
    """Parse ``url``, resolve its host once (``resolver``, default ``resolve``) and let ``check``
    refuse the addresses.

    Raises ``Refused`` for a malformed URL, a scheme other than http/https, credentials in the
    URL, a host that does not resolve, or whatever ``check`` refuses.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused(f"malformed URL {url!r}") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise Refused("the base URL must be http:// or https:// with a host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Refused("credentials in the URL are not allowed")
    host = normalize_host(parts.hostname)
    try:
        literal = str(ipaddress.ip_address(host))
    except ValueError:
        literal = None
    addresses = tuple([literal] if literal else (resolver or resolve)(host))
    if not addresses:
        raise Refused(f"cannot resolve host {host!r}")
    if check is not None:
        check(host, addresses, literal is not None)
    return Destination(parts.scheme, host, port or SCHEMES[parts.scheme], addresses)


def check_header(name: str, value: str) -> None:
    """Refuse (``Refused``) a header whose name is no token or whose value holds CR, LF or NUL
    or a character outside Latin-1 (what HTTP/1.1 can carry)."""
    if not _TOKEN.match(name):
        raise Refused(f"{name!r} is not a valid header name")
    if any(char in value for char in _FORBIDDEN_IN_VALUE):
        raise Refused(f"the {name} header value contains a line break or NUL")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise Refused(f"the {name} header value has characters HTTP headers cannot carry") from None


def tls_context() -> ssl.SSLContext:
    """Certificates and host names verified against the system's trust store."""
    return ssl.create_default_context()


def connect(destination: Destination, timeout_s: float) -> socket.socket:
    """A blocking TCP connection to the first of the destination's addresses that accepts.
    Raises ``OSError`` (``ConnectionRefusedError`` when every address refused)."""
    errors: list[OSError] = []
    for address in destination.addresses:
        try:
            # A numeric address: create_connection makes no DNS query for it.
            return socket.create_connection((address, destination.port), timeout=timeout_s)
        except OSError as exc:
            errors.append(exc)
    if errors and all(isinstance(e, ConnectionRefusedError) for e in errors):
        raise errors[0]
    detail = "; ".join(str(e) for e in errors) or "no address"
    raise OSError(f"cannot connect to {destination.authority}: {detail}")


class _Connection(http.client.HTTPConnection):
    """``http.client`` over a socket to a checked address (it never follows redirects)."""

    def __init__(self, destination: Destination, timeout_s: float, tls: ssl.SSLContext | None):
        super().__init__(destination.host, destination.port, timeout=timeout_s)
        self.timeout_s = timeout_s  # http.client types its own ``timeout`` as optional
        self.destination = destination
        self.tls = tls
        self.default_port = SCHEMES[destination.scheme]  # Host: omits the port when default

    def connect(self) -> None:
        sock = connect(self.destination, self.timeout_s)
        if self.destination.tls:
            context = self.tls or tls_context()
            sock = context.wrap_socket(sock, server_hostname=self.destination.host)
        self.sock = sock


def get(
    destination: Destination,
    path: str,
    *,
    timeout_s: float,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
) -> tuple[int, bytes]:
    """GET ``path`` from ``destination``: (HTTP status, at most ``max_bytes`` of the body).

    A 3xx comes back as it is (its ``Location`` is not followed). ``tls``: the context for https
    (default ``tls_context()``). Raises ``OSError`` when nothing usable answers (refused, reset,
    timed out, a bad certificate, not HTTP), ``Refused`` for a bad header value.
    """
    headers = {"Accept": "application/json, text/plain", **(headers or {})}
    for name, value in headers.items():
        check_header(name, value)
    connection = _Connection(destination, timeout_s, tls)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(max_bytes)
    except http.client.HTTPException as exc:
        raise OSError(f"not an HTTP answer from {destination.authority}: {exc!r}") from exc
    finally:
        connection.close()
