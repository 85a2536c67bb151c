"""Credentials and challenges: who we are to a registry, found as the ecosystem finds it.

Credentials, first found wins: ``--creds USER:PASS``; Podman's ``auth.json`` (``REGISTRY_AUTH_FILE``,
``$XDG_RUNTIME_DIR/containers/auth.json``, ``~/.config/containers/auth.json``); Docker's
``config.json`` (``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``). In each file:
``credHelpers`` for the registry (a ``docker-credential-<name>`` program), then ``auths`` (the
longest matching key: Podman allows ``host/namespace``), then ``credsStore``.

Challenges (``WWW-Authenticate``, from Docker's token authentication spec): ``Bearer realm=...,
service=..., scope=...`` asks for a token from the realm, anonymously or with Basic credentials (or a
refresh token, when a helper gives an identity token); ``Basic`` asks for the credentials themselves.
A token is kept per scope for the life of the client.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ..reference import DOCKER_HUB
from .errors import AuthRequired, RegistryError

if TYPE_CHECKING:
    from .client import RegistryClient

AUTH_FILE_MAX = 1 << 20
"""Bytes of a credentials file read."""
TOKEN_ANSWER_MAX = 1 << 20
"""Bytes of a token service's answer read."""
HELPER_TIMEOUT = 30.0
"""Seconds a credential helper may take."""
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
"""The key Docker files Docker Hub's credentials under."""
CLIENT_ID = "layerscope"
_HUB_ALIASES = {"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", DOCKER_HUB}


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password (or an identity token), and where they were found, for messages."""

    username: str
    password: str
    source: str
    identity_token: str | None = None

    def basic(self) -> str:
        """The ``Authorization`` value for Basic authentication."""
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


def parse_creds(text: str) -> Credentials | None:
    """``USER:PASS`` (``--creds``; the password may hold colons); None when there is no colon."""
    user, sep, password = text.partition(":")
    if not sep or not user:
        return None
    return Credentials(user, password, "--creds")


def auth_files() -> list[Path]:
    """The credentials files, in the order they are consulted."""
    out: list[Path] = []
    env = os.environ.get("REGISTRY_AUTH_FILE")
    if env:
        out.append(Path(env))
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        out.append(Path(runtime) / "containers" / "auth.json")
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    out.append(Path(config_home) / "containers" / "auth.json")
    docker_config = os.environ.get("DOCKER_CONFIG")
    docker = Path(docker_config) if docker_config else Path.home() / ".docker"
    out.append(docker / "config.json")
    return out


def find_credentials(registry: str, repository: str) -> Credentials | None:
    """The stored credentials for ``registry`` (the host as the reference names it), or None."""
    for path in auth_files():
        doc = _read_auth_file(path)
        if doc is None:
            continue
        found = _from_file(doc, registry, repository, path)
        if found is not None:
            return found
    return None


def _read_auth_file(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            raw = f.read(AUTH_FILE_MAX + 1)
    except OSError:
        return None
    if len(raw) > AUTH_FILE_MAX:
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def normalize_key(key: str) -> str:
    """A key of ``auths``/``credHelpers`` as ``host[/namespace]``: no scheme, no ``/v1/``, Docker
    Hub's aliases as ``docker.io``."""
    k = re.sub(r"^[a-z]+://", "", key.strip().lower()).rstrip("/")
    k = re.sub(r"/v[12]$", "", k)
    host, sep, rest = k.partition("/")
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
    return host + (sep + rest if rest else "")


def _matching(keys: Iterator[str], registry: str, repository: str) -> str | None:
    """The key that names ``registry/repository`` most closely (the longest match), or None."""
    full = f"{registry}/{repository}"
    best: tuple[int, str] | None = None
    for key in keys:
        n = normalize_key(key)
        matches = n == registry or full == n or full.startswith(n + "/")
        if matches and (best is None or len(n) > best[0]):
            best = (len(n), key)
    return best[1] if best else None


def _from_file(doc: dict[str, Any], registry: str, repository: str, path: Path) -> Credentials | None:
    helpers = doc.get("credHelpers")
    if isinstance(helpers, dict):
        key = _matching(iter(helpers), registry, repository)
        if key is not None and isinstance(helpers[key], str):
            return run_helper(helpers[key], registry)
    auths = doc.get("auths")
    if isinstance(auths, dict):
        key = _matching(iter(auths), registry, repository)
        entry = auths.get(key) if key is not None else None
        if isinstance(entry, dict):
            found = _from_entry(entry, str(path))
            if found is not None:
                return found
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        return run_helper(store, registry)
    return None


def _from_entry(entry: dict[str, Any], source: str) -> Credentials | None:
    """The credentials of one ``auths`` entry: ``auth`` (base64 of USER:PASS) or username/password,
    with ``identitytoken`` when there is one."""
    token = entry.get("identitytoken")
    token = token if isinstance(token, str) and token else None
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            text = base64.b64decode(auth, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = text.partition(":")
        if sep:
            return Credentials(user, password, source, token)
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str) and name:
        return Credentials(name, secret, source, token)
    if token is not None:
        return Credentials("", "", source, token)
    return None


def run_helper(name: str, registry: str) -> Credentials | None:
    """Ask ``docker-credential-<name> get`` for ``registry``'s credentials; None when it has none,
    is not installed, or fails."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        return None
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        return None
    server = DOCKER_HUB_KEY if registry == DOCKER_HUB else registry
    try:
        done = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    try:
        doc = json.loads(done.stdout[:AUTH_FILE_MAX])
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    user, secret = doc.get("Username"), doc.get("Secret")
    if not isinstance(user, str) or not isinstance(secret, str) or not secret:
        return None
    source = f"docker-credential-{name}"
    if user == "<token>":
        return Credentials("", "", source, secret)
    return Credentials(user, secret, source)


# ---- challenges -----------------------------------------------------------------------------------

_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


@dataclass(frozen=True, slots=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: the scheme (lowercase) and its parameters."""

    scheme: str
    params: dict[str, str]


def parse_challenges(values: list[str]) -> list[Challenge]:
    """The challenges of the ``WWW-Authenticate`` headers (one per header, as registries send them)."""
    out = []
    for value in values:
        scheme, _sp, rest = value.strip().partition(" ")
        if not scheme:
            continue
        params: dict[str, str] = {}
        pos = 0
        while pos < len(rest):
            m = _PARAM.match(rest, pos)
            if m is None or m.end() == pos:
                break
            v = m.group(2)
            if v.startswith('"'):
                v = re.sub(r"\\(.)", r"\1", v[1:-1])
            params[m.group(1).lower()] = v
            pos = m.end()
        out.append(Challenge(scheme.lower(), params))
    return out


class Authenticator:
    """Answers one registry's challenges for one repository with the credentials found for it."""

    def __init__(self, registry: str, repository: str, creds: Credentials | None) -> None:
        self.registry = registry
        self.repository = repository
        self.creds = creds
        self.bearer: Challenge | None = None
        self.basic = False
        self._tokens: dict[str, str] = {}

    def note_challenges(self, values: list[str]) -> None:
        """Remember what the registry asks for (Bearer preferred over Basic)."""
        for ch in parse_challenges(values):
            if ch.scheme == "bearer" and "realm" in ch.params:
                self.bearer = ch
            elif ch.scheme == "basic":
                self.basic = True

    def can_answer(self) -> bool:
        """Whether a new attempt could pass: a token can be asked for, or Basic credentials sent."""
        has_user = self.creds is not None and bool(self.creds.username)
        return self.bearer is not None or (self.basic and has_user)

    def forget_token(self, scope: str) -> None:
        self._tokens.pop(scope, None)

    def authorization(self, client: RegistryClient, scope: str) -> str | None:
        """The ``Authorization`` value for a request in ``scope`` (a token is fetched when needed)."""
        if self.bearer is not None:
            token = self._tokens.get(scope)
            if token is None:
                token = self._tokens[scope] = self._fetch_token(client, self.bearer, scope)
            return f"Bearer {token}"
        if self.basic and self.creds is not None and self.creds.username:
            return self.creds.basic()
        return None

    def _fetch_token(self, client: RegistryClient, ch: Challenge, scope: str) -> str:
        """A token for ``scope`` from the challenge's realm. Raises AuthRequired, RegistryError."""
        try:
            realm = httpx.URL(ch.params["realm"])
        except httpx.InvalidURL as exc:
            raise client.fail(f"{client.host} names an invalid token service URL") from exc
        what = f"the token service of {client.host}"
        query = {"scope": scope, **({"service": ch.params["service"]} if "service" in ch.params else {})}
        creds = self.creds
        if creds is not None and creds.identity_token:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "client_id": CLIENT_ID,
            }
            resp = client.send_to("POST", realm, what, data={**form, **query})
        else:
            basic = creds.basic() if creds is not None and creds.username else None
            resp = client.send_to("GET", realm.copy_merge_params(query), what, authorization=basic)
        with closing(resp):
            if resp.status_code in (401, 403):
                if creds is not None:
                    raise AuthRequired(
                        f"{what} refused the credentials from {creds.source}",
                        client.where,
                        self.registry,
                        rejected=True,
                    )
                raise AuthRequired(f"{what} asks for credentials: {_GIVE}", client.where, self.registry)
            if resp.status_code != 200:
                raise client.status_error(resp, what)
            doc = client.read_json(resp, TOKEN_ANSWER_MAX, f"the answer of {what}")
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token or not token.isprintable() or len(token) > 64 << 10:
            raise client.fail(f"{what} gave no usable token")
        return token

    def refused(self, client: RegistryClient, values: list[str]) -> RegistryError:
        """The error for a 401 that a second attempt did not pass."""
        errors = {c.params.get("error", "") for c in parse_challenges(values)}
        who = f"{self.registry}/{self.repository}"
        if self.creds is not None:
            return AuthRequired(
                f"{client.host} refused the credentials from {self.creds.source} for {who}",
                client.where,
                self.registry,
                rejected=True,
            )
        if "insufficient_scope" in errors:
            return AuthRequired(
                f"not allowed to pull {who} anonymously (it may need credentials, or not exist): {_GIVE}",
                client.where,
                self.registry,
            )
        return AuthRequired(f"{client.host} asks for credentials: {_GIVE}", client.where, self.registry)


_GIVE = "give --creds USER:PASS or log in (docker login, podman login)"
