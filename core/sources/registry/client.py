"""HTTP to one registry: the scheme it speaks, timeouts, redirects, authorization, one-line errors.

httpx does the protocol (HTTP/1.1, TLS, connection pooling, streaming); this module adds what a
registry client owes its user:

- plain HTTP only to a loopback host or a registry named insecure (``--tls-verify=false``); the
  others are spoken to over verified TLS;
- redirects are followed here, never by httpx, so that the ``Authorization`` header is sent only to
  the origin it belongs to (blob storage redirects to another host are normal), a loop or more than
  ``max_redirects`` hops is an error, and TLS is never dropped for plain HTTP on the way;
- connect and read timeouts, and a deadline for small documents (a server dripping bytes);
- every failure is a ``RegistryError`` whose message is one line naming the reference.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import os
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from ... import __version__
from .errors import AuthRequired, RegistryError

if TYPE_CHECKING:
    from .auth import Authenticator

TIMEOUT_ENV = "LAYERSCOPE_HTTP_TIMEOUT"
"""Seconds to wait for a connection or for the next bytes of an answer (default 30)."""
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
ERROR_BODY_MAX = 64 << 10
"""Bytes of an error answer read to find the registry's error code."""
USER_AGENT = f"layerscope/{__version__}"


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """How long to wait and how far to follow. ``from_env`` reads LAYERSCOPE_HTTP_TIMEOUT."""

    connect_timeout: float = 30.0
    read_timeout: float = 30.0
    document_deadline: float = 120.0
    """Seconds for the whole of a small document (manifest, config, token)."""
    max_redirects: int = 10
    resume_attempts: int = 3
    """Times an interrupted blob download is resumed (with a Range request) before giving up."""

    @classmethod
    def from_env(cls) -> ClientConfig:
        text = os.environ.get(TIMEOUT_ENV)
        if not text:
            return cls()
        try:
            t = float(text)
        except ValueError:
            return cls()
        if not 0 < t < 86400:
            return cls()
        return cls(connect_timeout=t, read_timeout=t, document_deadline=max(4 * t, 1.0))


def host_of(hostport: str) -> str:
    """The host of ``host[:port]`` (``[::1]:5000`` -> ``::1``)."""
    if hostport.startswith("["):
        return hostport[1 : hostport.find("]")] if "]" in hostport else hostport
    return hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport


def is_loopback(hostport: str) -> bool:
    """Whether ``host[:port]`` is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    h = host_of(hostport).lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def _hostport(url: httpx.URL) -> str:
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{url.port}" if url.port else host


def origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port spelled out: what the Authorization header belongs to."""
    default = {"https": 443, "http": 80}.get(url.scheme)
    return url.scheme, url.host.lower(), url.port or default


@dataclass(slots=True)
class Counters:
    """What clients sent and received, for tests and measurements."""

    requests: int = 0
    blob_bytes: int = 0
    urls: list[str] = field(default_factory=list)

    def count_request(self, line: str) -> None:
        self.requests += 1
        if len(self.urls) < 10_000:
            self.urls.append(line)


totals = Counters()
"""Every client of this process together (a second open of a cached image adds no blob bytes)."""


class RegistryClient:
    """One registry, one reference: requests to ``/v2/...`` with authorization, redirects, errors."""

    def __init__(
        self,
        host: str,
        where: str,
        *,
        insecure: bool,
        tls_verify: bool,
        config: ClientConfig,
        insecure_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.host = host
        self.where = where
        self.config = config
        self._insecure_hosts = insecure_hosts | ({host} if insecure else set())
        self.plain_ok = insecure or is_loopback(host)
        self.base: httpx.URL | None = None
        self.auth: Authenticator | None = None
        self.counters = Counters()
        timeout = httpx.Timeout(
            connect=config.connect_timeout,
            read=config.read_timeout,
            write=config.read_timeout,
            pool=config.connect_timeout,
        )
        self._http = httpx.Client(
            verify=tls_verify and not insecure,
            timeout=timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fail(self, message: str) -> RegistryError:
        """The error to raise: ``message`` about this reference."""
        return RegistryError(message, self.where)

    def may_use_plain_http(self, hostport: str) -> bool:
        """Whether plain HTTP to ``hostport`` is allowed (loopback, or a registry named insecure)."""
        return is_loopback(hostport) or hostport in self._insecure_hosts

    # ---- the registry's base URL and its challenge ---------------------------------------------------

    def ping(self) -> None:
        """Find the scheme the registry speaks (``GET /v2/``) and note its authentication challenge.

        HTTPS first; plain HTTP after it only where allowed. Raises RegistryError."""
        schemes = ("https", "http") if self.plain_ok else ("https",)
        first: RegistryError | None = None
        for scheme in schemes:
            url = httpx.URL(f"{scheme}://{self.host}/v2/")
            try:
                resp = self._send("GET", url, {}, None, "the registry's API root")
            except RegistryError as exc:
                first = first or exc
                if isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout):
                    continue
                raise
            with closing(resp):
                self.base = httpx.URL(f"{scheme}://{self.host}")
                if resp.status_code == 401:
                    if self.auth is not None:
                        self.auth.note_challenges(resp.headers.get_list("www-authenticate"))
                    return
                if resp.status_code == 200:
                    return
                if resp.status_code == 404:
                    raise self.fail(f"{self.host} does not serve the registry API (no /v2/)")
                raise self.status_error(resp, "the registry's API root")
        assert first is not None
        raise first

    # ---- requests ------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        scope: str,
        headers: Mapping[str, str] | None = None,
        ok: frozenset[int] = frozenset({200}),
    ) -> httpx.Response:
        """A streamed answer to ``method path`` on the registry, authorized for ``scope``, with a
        status in ``ok`` (close it). Answers a 401 once (a token, or Basic credentials); raises
        AuthRequired when that does not do, RegistryError for any other status or failure."""
        if self.base is None:
            self.ping()
        assert self.base is not None
        url = self.base.join(path)
        for attempt in range(2):
            authorization = self.auth.authorization(self, scope) if self.auth is not None else None
            resp = self._send(method, url, dict(headers or {}), authorization, what)
            if resp.status_code != 401:
                if resp.status_code in ok:
                    return resp
                with closing(resp):
                    raise self.status_error(resp, what)
            challenges = resp.headers.get_list("www-authenticate")
            resp.close()
            if self.auth is None:
                raise AuthRequired(f"{self.host} asks for credentials", self.where, self.host)
            self.auth.note_challenges(challenges)
            if attempt == 0 and self.auth.can_answer():
                self.auth.forget_token(scope)
                continue
            raise self.auth.refused(self, challenges)
        raise AssertionError("unreachable")

    def send_to(
        self,
        method: str,
        url: httpx.URL,
        what: str,
        *,
        headers: Mapping[str, str] | None = None,
        authorization: str | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A streamed answer from any URL (a token service): ``authorization`` goes to its origin only."""
        if url.scheme not in ("https", "http"):
            raise self.fail(f"{what} is at {str(url)[:200]!r}, not an http(s) URL")
        if url.scheme == "http" and not self.may_use_plain_http(_hostport(url)):
            raise self.fail(f"{what} is at plain-HTTP {_hostport(url)}; refused (TLS required)")
        return self._send(method, url, dict(headers or {}), authorization, what, data=data)

    def _send(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        authorization: str | None,
        what: str,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send and follow redirects; ``authorization`` only ever goes to ``url``'s own origin."""
        auth_origin = origin_of(url)
        seen = {str(url)}
        for _hop in range(self.config.max_redirects + 1):
            h = dict(headers)
            if authorization is not None and origin_of(url) == auth_origin:
                h["Authorization"] = authorization
            req = self._http.build_request(method, url, headers=h, data=data)
            self.counters.count_request(f"{method} {url}")
            totals.count_request(f"{method} {url}")
            try:
                resp = self._http.send(req, stream=True)
            except httpx.HTTPError as exc:
                raise self.transport_error(exc, url, what) from exc
            if resp.status_code not in REDIRECT_CODES or "location" not in resp.headers:
                return resp
            location = resp.headers["location"]
            resp.close()
            try:
                nxt = url.join(location)
            except httpx.InvalidURL as exc:
                raise self.fail(f"{what}: redirected to an invalid URL {location[:200]!r}") from exc
            if nxt.scheme not in ("http", "https"):
                raise self.fail(f"{what}: redirected to {str(nxt)[:200]!r}, not an http(s) URL")
            if nxt.scheme == "http" and url.scheme == "https" and not self.may_use_plain_http(_hostport(nxt)):
                raise self.fail(f"{what}: redirected from HTTPS to plain HTTP ({_hostport(nxt)}); refused")
            if str(nxt) in seen:
                raise self.fail(f"{what}: redirect loop at {_hostport(nxt)}")
            seen.add(str(nxt))
            if resp.status_code == 303:
                method, data = "GET", None
            url = nxt
        raise self.fail(f"{what}: more than {self.config.max_redirects} redirects")

    # ---- bodies --------------------------------------------------------------------------------------

    def chunks(self, resp: httpx.Response, what: str) -> Iterator[bytes]:
        """The body of ``resp`` piece by piece; transport failures as RegistryError."""
        it = resp.iter_bytes()  # as it arrives: a chunk buffered here would be lost to a broken connection
        while True:
            try:
                chunk = next(it)
            except StopIteration:
                return
            except httpx.HTTPError as exc:
                raise self.transport_error(exc, resp.request.url, what) from exc
            yield chunk

    def read_document(self, resp: httpx.Response, limit: int, what: str) -> bytes:
        """The whole body of a small document, refused past ``limit`` bytes or the document deadline."""
        length = resp.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise self.too_large(what, limit, int(length))
        deadline = time.monotonic() + self.config.document_deadline
        buf = bytearray()
        for chunk in self.chunks(resp, what):
            buf += chunk
            if len(buf) > limit:
                raise self.too_large(what, limit)
            if time.monotonic() > deadline:
                raise self.fail(
                    f"{what}: not received within {self.config.document_deadline:g} s (server too slow)"
                )
        return bytes(buf)

    def read_json(self, resp: httpx.Response, limit: int, what: str) -> Any:
        raw = self.read_document(resp, limit, what)
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise self.fail(f"{what} is not valid JSON") from exc

    def too_large(self, what: str, limit: int, size: int | None = None) -> RegistryError:
        says = f" ({size:,} bytes)" if size is not None else ""
        return self.fail(f"{what} is larger than the {_mib(limit)} LayerScope accepts{says}")

    # ---- errors --------------------------------------------------------------------------------------

    def transport_error(self, exc: httpx.HTTPError, url: httpx.URL, what: str) -> RegistryError:
        """One line for a failure below HTTP: unreachable, TLS, timeout, a dropped connection."""
        host = _hostport(url)
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            return self.fail(f"cannot reach {host}: no connection within {self.config.connect_timeout:g} s")
        if isinstance(exc, httpx.TimeoutException):
            return self.fail(f"{what}: {host} sent nothing for {self.config.read_timeout:g} s (timed out)")
        tls = _ssl_error(exc)
        if tls is not None:
            hint = "" if host in self._insecure_hosts else "; if you trust it, use --tls-verify=false"
            return self.fail(f"TLS with {host} failed ({tls}){hint}")
        if isinstance(exc, httpx.ConnectError):
            return self.fail(f"cannot reach {host} ({_reason(exc)})")
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return self.fail(f"{what}: {host} broke off the connection ({_reason(exc)})")
        return self.fail(f"{what}: {host}: {_reason(exc)}")

    def status_error(self, resp: httpx.Response, what: str) -> RegistryError:
        """One line for an answer that is not what was asked: the registry's error code when it gives one."""
        code, detail = self._error_code(resp)
        status = resp.status_code
        if status == 429 or code == "TOOMANYREQUESTS":
            wait = retry_after(resp.headers.get("retry-after"))
            when = f"; try again in {wait} s" if wait is not None else "; try again later"
            return self.fail(f"{what}: {self.host} is limiting requests (429 Too Many Requests){when}")
        if status == 403 or code == "DENIED":
            return self.fail(f"{what}: access denied by {self.host}" + (f" ({detail})" if detail else ""))
        if status == 404 or code.endswith("_UNKNOWN"):
            if code == "NAME_UNKNOWN":
                return self.fail(f"{what}: {self.host} has no such repository (NAME_UNKNOWN)")
            return self.fail(f"{what}: not found" + (f" ({code})" if code else " (404)"))
        reason = resp.reason_phrase or ""
        text = f"{what}: {self.host} answered {status} {reason}".rstrip()
        return self.fail(text + (f" ({code}: {detail})" if code else ""))

    def _error_code(self, resp: httpx.Response) -> tuple[str, str]:
        """The first error of the distribution API's error body (``{"errors": [{"code": ...}]}``)."""
        buf = bytearray()
        try:
            for chunk in resp.iter_bytes(ERROR_BODY_MAX):
                buf += chunk
                if len(buf) >= ERROR_BODY_MAX:
                    break
            doc = json.loads(bytes(buf))
        except (httpx.HTTPError, ValueError, RecursionError):
            return "", ""
        errs = doc.get("errors") if isinstance(doc, dict) else None
        if isinstance(errs, list) and errs and isinstance(errs[0], dict):
            code = errs[0].get("code")
            msg = errs[0].get("message")
            return (str(code)[:80] if code else ""), (str(msg)[:200] if msg else "")
        return "", ""


def _mib(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n:,} bytes"


def retry_after(value: str | None) -> int | None:
    """Seconds a ``Retry-After`` header asks to wait (a number, or an HTTP date); None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int((when - datetime.now(UTC)).total_seconds()))


def _ssl_error(exc: BaseException) -> str | None:
    """The TLS reason behind ``exc`` (certificate verify failed, ...), or None when TLS is not why."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError):
            return str(e.verify_message or e.reason or "certificate verify failed")
        if isinstance(e, ssl.SSLError):
            return str(e.reason or e).lower().replace("_", " ")
        e = e.__cause__ or e.__context__
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate verify failed"
    if "SSL" in text or "TLS" in text:
        return text[:200]
    return None


def _reason(exc: BaseException) -> str:
    """A short reason: the innermost OS error's text, else the exception's."""
    e: BaseException | None = exc
    while e is not None:
        if isinstance(e, OSError) and e.strerror:
            return e.strerror.lower()
        e = e.__cause__ or e.__context__
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
