"""Files whose name says what they hold (an SSH key, a password file, a registry login), and how to
read the secret out of each: by line for the line formats, by JSON for the auth files.

A named file is read wherever it lies and whatever its size (its first bytes, up to the audit's
read limit), even inside package trees that the generic scan leaves out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from enum import StrEnum

from ..paths import parent
from .patterns import Match, placeholder, putty_keys, secret_name
from .rules import Rule


class NameKind(StrEnum):
    """What a file's name says it is."""

    SSH_KEY = "ssh-key"
    KEY_FILE = "key-file"
    PGPASS = "pgpass"
    GIT_CREDENTIALS = "git-credentials"
    NETRC = "netrc"
    NPMRC = "npmrc"
    DOCKER_AUTH = "docker-auth"
    KUBECONFIG = "kubeconfig"
    ENV_FILE = "env-file"
    AWS_CREDENTIALS = "aws-credentials"


_SSH_NAMES = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "id_xmss"}
)
_KEY_SUFFIXES = (".pem", ".key", ".p8", ".ppk")  # PuTTY keys are found by this name only
_ENV_NOT_SECRET = frozenset({"example", "sample", "template", "dist", "defaults", "default", "schema"})
_HOST_KEY = re.compile(r"ssh_host_[a-z0-9]+_key")


_BY_NAME = {
    ".pgpass": NameKind.PGPASS,
    ".git-credentials": NameKind.GIT_CREDENTIALS,
    ".netrc": NameKind.NETRC,
    "_netrc": NameKind.NETRC,
    ".npmrc": NameKind.NPMRC,
    "kubeconfig": NameKind.KUBECONFIG,
    ".env": NameKind.ENV_FILE,
    **dict.fromkeys(_SSH_NAMES, NameKind.SSH_KEY),
}
_BY_TAIL = (
    ("etc/npmrc", NameKind.NPMRC),
    (".docker/config.json", NameKind.DOCKER_AUTH),
    ("containers/auth.json", NameKind.DOCKER_AUTH),
    (".kube/config", NameKind.KUBECONFIG),
    (".aws/credentials", NameKind.AWS_CREDENTIALS),
    (".config/git/credentials", NameKind.GIT_CREDENTIALS),
)
_TAIL_NAMES = frozenset({"npmrc", "config.json", "auth.json", "config", "credentials"})


def name_kind(path: str) -> NameKind | None:
    """What ``path`` (an image path without the leading ``/``) is by its name; None for most files."""
    base = path[path.rfind("/") + 1 :]
    kind = _BY_NAME.get(base)
    if kind is not None:
        return kind
    if base in _TAIL_NAMES:
        for tail, k in _BY_TAIL:
            if path == tail or path.endswith("/" + tail):
                return k
        return None
    if base.endswith(_KEY_SUFFIXES):
        return NameKind.KEY_FILE
    if base.startswith(".env."):
        return NameKind.ENV_FILE if base[5:].lower() not in _ENV_NOT_SECRET else None
    if base.endswith(".kubeconfig"):
        return NameKind.KUBECONFIG
    if base.startswith("ssh_host_") and _HOST_KEY.fullmatch(base) and parent(path).endswith("etc/ssh"):
        return NameKind.SSH_KEY
    if base == "identity" and parent(path).endswith(".ssh"):
        return NameKind.SSH_KEY
    return None


def named_secrets(kind: NameKind, data: bytes) -> Iterator[Match]:
    """The secrets a named file's own format holds (the key files are left to the content patterns)."""
    reader = _READERS.get(kind)
    if reader is not None:
        yield from reader(data)


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


# Each reader is one expression over the whole file (lines that cannot match are skipped in C, so a
# file of a million lines costs milliseconds), then a check per candidate line.
_PGPASS = re.compile(rb"(?m)^(?![ \t]*#)([^:\r\n]*):([^:\r\n]*):([^:\r\n]*):((?:[^:\r\n]|\\:)*):([^\r\n]+)")


def _pgpass(data: bytes) -> Iterator[Match]:
    for m in _PGPASS.finditer(data):
        password = _text(m.group(5))
        if not placeholder(password):
            who = f"{_text(m.group(4)) or '?'}@{_text(m.group(1)) or '?'}"
            yield Match(Rule.PGPASS, f"password of {who}", m.group(5), m.start())


_CRED_URL = re.compile(rb"(?m)^[ \t]*[A-Za-z][A-Za-z0-9+.-]*://([^:/@\s]+):([^@\s]+)@([^/\s]+)")


def _git_credentials(data: bytes) -> Iterator[Match]:
    for m in _CRED_URL.finditer(data):
        if not placeholder(_text(m.group(2))):
            who = f"{_text(m.group(1))}@{_text(m.group(3))}"
            yield Match(Rule.GIT_CREDENTIALS, f"password of {who}", m.group(2), m.start())


_NETRC_PASSWORD = re.compile(rb"(?:^|\s)(?:password|passwd)[ \t]+(\S+)")


def _netrc(data: bytes) -> Iterator[Match]:
    for m in _NETRC_PASSWORD.finditer(data):
        if not placeholder(_text(m.group(1))):
            yield Match(Rule.NETRC, ".netrc password", m.group(1), m.start(1))


_NPMRC = re.compile(rb"(?m)^[ \t]*(?://[^\s=]*:)?(_authToken|_auth|_password)[ \t]*=[ \t]*([^\r\n]*)")


def _npmrc(data: bytes) -> Iterator[Match]:
    for m in _NPMRC.finditer(data):
        value = env_value(_text(m.group(2)))
        if not placeholder(value):
            yield Match(Rule.NPMRC_AUTH, f".npmrc {_text(m.group(1))}", value.encode(), m.start())


def _docker_auth(data: bytes) -> Iterator[Match]:
    try:
        doc = json.loads(data)
    except ValueError:
        return
    auths = doc.get("auths") if isinstance(doc, dict) else None
    if not isinstance(auths, dict):
        return
    for registry, entry in auths.items():
        if not isinstance(entry, dict):
            continue
        for field in ("auth", "identitytoken", "password", "registrytoken"):
            value = entry.get(field)
            if isinstance(value, str) and value and not placeholder(value):
                raw = value.encode()
                yield Match(Rule.DOCKER_AUTHS, f"{field} for {registry}", raw, max(data.find(raw), 0))


_KUBE = re.compile(
    rb"(?m)^[ \t-]*(client-key-data|token|password|client-secret)[ \t]*:[ \t]*[\"']?([^\s\"'#]+)"
)


def _kubeconfig(data: bytes) -> Iterator[Match]:
    for m in _KUBE.finditer(data):
        if not placeholder(_text(m.group(2))):
            yield Match(Rule.KUBECONFIG_CREDENTIALS, f"kubeconfig {_text(m.group(1))}", m.group(2), m.start())


# only lines whose name has a secret word reach Python (secret_name then decides); names are bounded
# so that a long line of name characters cannot make the expression backtrack quadratically
_ASSIGN = re.compile(
    rb"(?mi)^[ \t]*(?:export[ \t]+)?"
    rb"([A-Za-z0-9_.-]{0,64}(?:pass|secret|token|key|credential)[A-Za-z0-9_.-]{0,64})"
    rb"[ \t]*=[ \t]*([^\r\n]*)"
)


def env_value(raw: str) -> str:
    """An assignment's value as a shell reads it: quotes removed, a trailing `` # comment`` dropped."""
    raw = raw.strip()
    if raw[:1] in ("'", '"'):
        end = raw.find(raw[0], 1)
        return raw[1:end] if end > 0 else raw[1:]
    return raw.split(" #", 1)[0].strip()


def _env_file(data: bytes) -> Iterator[Match]:
    for m in _ASSIGN.finditer(data):
        name = _text(m.group(1))
        if not secret_name(name, loose=True):
            continue
        value = env_value(_text(m.group(2)))
        if not placeholder(value):
            yield Match(Rule.ENV_FILE_SECRET, name, value.encode(), m.start())


_READERS = {
    NameKind.KEY_FILE: putty_keys,
    NameKind.PGPASS: _pgpass,
    NameKind.GIT_CREDENTIALS: _git_credentials,
    NameKind.NETRC: _netrc,
    NameKind.NPMRC: _npmrc,
    NameKind.DOCKER_AUTH: _docker_auth,
    NameKind.KUBECONFIG: _kubeconfig,
    NameKind.ENV_FILE: _env_file,
}
