"""Secrets recognised in text by their shape: keys and tokens of well-known providers.

Each pattern has a cheap test (a literal, or a regular expression that starts with a literal, both
searched in C at gigabytes a second) that a file must pass before the full expression runs on it:
most files pass none, so a file costs about one quick search per pattern. Where the facts behind
each pattern came from is in ``rules.RULES``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

from .rules import Rule


@dataclass(frozen=True, slots=True)
class SecretPattern:
    """One shape of secret: its rule, its kind in words, the cheap test, the expression, the group
    holding the secret's value."""

    rule: Rule
    kind: str
    test: bytes | re.Pattern[bytes]
    regex: re.Pattern[bytes]
    group: int = 0
    not_after: frozenset[int] = frozenset()
    """Bytes that must not come just before a match (a value, not the tail of a longer token). Said
    here, not as a look-behind at the start of ``regex``: with one there, the engine tries every
    position of the data (130 ms on 4 MB, holding the interpreter lock); without, it jumps from one
    occurrence of the literal start to the next (6 ms)."""


@dataclass(frozen=True, slots=True)
class Match:
    """A secret found in a text: its rule and kind, its value (never shown whole), where it starts."""

    rule: Rule
    kind: str
    value: bytes
    offset: int


_NOT_TOKEN = rb"(?![A-Za-z0-9_-])"
_ALNUM = frozenset(string.ascii_letters.encode() + string.digits.encode())
_UPPER_DIGITS = frozenset(string.ascii_uppercase.encode() + string.digits.encode())
_WORD = _ALNUM | {ord("_")}
_TOKEN = _WORD | {ord("-")}
_PEM = re.compile(
    # the BEGIN line, optional RFC 1421 headers (Proc-Type, DEK-Info, PGP's Version), then a body of
    # base64 lines; "\\n" too, for a key inside a JSON string (a cloud service-account file)
    rb"-----BEGIN ((?:[A-Z0-9]+ ){0,3})PRIVATE KEY( BLOCK)?-----[ \t]*(?:\r?\n|\\n)"
    rb"(?:[A-Za-z][A-Za-z0-9-]*:[^\r\n\\]*(?:\r?\n|\\n))*(?:\r?\n|\\n)?"
    rb"((?:[A-Za-z0-9+/=]{16,}(?:\r?\n|\\n)?){4,})"
)
_PUTTY = re.compile(
    rb"PuTTY-User-Key-File-[0-9]+: *[^\r\n]+[\s\S]{0,8192}?Private-Lines: *[0-9]+\r?\n"
    rb"((?:[A-Za-z0-9+/=]+\r?\n?)+)"
)

# cheap tests shared by two patterns: one search serves both
_A_TEST = re.compile(rb"A(?:KIA|SIA|BIA|CCA|Iza)")
_G_TEST = re.compile(rb"g(?:h[pousr]_|ithub_pat_|l(?:pat|dt|rt|ptt|ft|soat)-)")

PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(Rule.PRIVATE_KEY, "private key", b"PRIVATE KEY", _PEM, 3),
    SecretPattern(
        Rule.AWS_ACCESS_KEY,
        "AWS access key id",
        _A_TEST,
        re.compile(rb"((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-9])"),
        1,
        not_after=_UPPER_DIGITS,
    ),
    SecretPattern(
        Rule.GCP_API_KEY,
        "Google API key",
        _A_TEST,
        re.compile(rb"(AIza[0-9A-Za-z_-]{35})" + _NOT_TOKEN),
        1,
        not_after=_TOKEN,
    ),
    SecretPattern(
        Rule.AZURE_STORAGE_KEY,
        "Azure storage key",
        b"AccountKey=",
        re.compile(rb"AccountKey=([A-Za-z0-9+/]{86}==)"),
        1,
    ),
    SecretPattern(
        Rule.GITHUB_TOKEN,
        "GitHub token",
        _G_TEST,
        re.compile(rb"(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})(?![A-Za-z0-9_])"),
        1,
        not_after=_WORD,
    ),
    SecretPattern(
        Rule.GITLAB_TOKEN,
        "GitLab token",
        _G_TEST,
        re.compile(rb"((?:glpat|gldt|glrt|glft|glsoat)-[0-9A-Za-z_-]{20}|glptt-[0-9a-f]{40})" + _NOT_TOKEN),
        1,
        not_after=_WORD,
    ),
    SecretPattern(
        Rule.SLACK_TOKEN,
        "Slack token",
        re.compile(rb"xox[abeoprs]-"),
        re.compile(rb"(xox[abeoprs]-(?:[0-9]+-)+[0-9A-Za-z]{8,})" + _NOT_TOKEN),
        1,
        not_after=_ALNUM,
    ),
    SecretPattern(
        Rule.SLACK_WEBHOOK,
        "Slack webhook URL",
        b"hooks.slack.com/",
        re.compile(
            rb"https://hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_]+/[A-Za-z0-9_/+]{16,})"
        ),
        1,
    ),
    SecretPattern(
        Rule.NPM_TOKEN,
        "npm token",
        b"npm_",
        re.compile(rb"(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])"),
        1,
        not_after=_WORD,
    ),
    SecretPattern(
        Rule.PYPI_TOKEN,
        "PyPI token",
        b"pypi-AgE",
        re.compile(rb"(pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{70,})"),
        1,
    ),
    SecretPattern(
        Rule.JWT,
        "JSON Web Token",
        b"eyJ",
        re.compile(rb"(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})" + _NOT_TOKEN),
        1,
        not_after=_TOKEN,
    ),
)
"""The patterns, in the order they are tried."""

_AWS_SECRET = re.compile(
    rb"(?i)aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
)


def find_secrets(data: bytes) -> Iterator[Match]:
    """Every secret of a known shape in ``data``, pattern by pattern (each value once per pattern)."""
    passed: dict[int, bool] = {}
    for p in PATTERNS:
        t = p.test
        ok = passed.get(id(t))
        if ok is None:
            ok = passed[id(t)] = (t in data) if isinstance(t, bytes) else t.search(data) is not None
        if not ok:
            continue
        seen: set[bytes] = set()
        for m in _matches(p, data):
            value = m.group(p.group)
            if value in seen or not _plausible(p.rule, value, m):
                continue
            seen.add(value)
            yield Match(p.rule, _kind(p, m), value, m.start())
        if seen and p.rule is Rule.AWS_ACCESS_KEY:
            yield from _aws_secrets(data)


def _matches(p: SecretPattern, data: bytes) -> Iterator[re.Match[bytes]]:
    """``p.regex``'s matches in ``data`` that no byte of ``p.not_after`` comes just before (as a
    look-behind would: a rejected start is tried again one byte later)."""
    bad, search, pos = p.not_after, p.regex.search, 0
    while (m := search(data, pos)) is not None:
        start = m.start()
        if start and data[start - 1] in bad:
            pos = start + 1
            continue
        yield m
        pos = max(m.end(), start + 1)


def putty_keys(data: bytes) -> Iterator[Match]:
    """PuTTY private keys (looked for in files named ``*.ppk`` and other key files only)."""
    for m in _PUTTY.finditer(data):
        yield Match(Rule.PRIVATE_KEY, "PuTTY private key", m.group(1), m.start())


def _aws_secrets(data: bytes) -> Iterator[Match]:
    """The secret access key that goes with an access key id, in the same file."""
    for m in _AWS_SECRET.finditer(data):
        value = m.group(1)
        if not value.endswith(b"EXAMPLEKEY"):
            yield Match(Rule.AWS_SECRET_KEY, "AWS secret access key", value, m.start())


def _kind(p: SecretPattern, m: re.Match[bytes]) -> str:
    if p.regex is _PEM:
        label = (m.group(1) or b"").decode("ascii").strip()
        if m.group(2):
            return f"{label} private key block".strip()
        return f"{label} private key".strip() if label else "PKCS#8 private key"
    return p.kind


def _plausible(rule: Rule, value: bytes, m: re.Match[bytes]) -> bool:
    """False for a documented placeholder, or a shape that is not the real thing."""
    if rule is Rule.AWS_ACCESS_KEY:  # AWS's documentation: AKIAIOSFODNN7EXAMPLE, AKIAEXAMPLE123456789
        return b"EXAMPLE" not in value and len(set(value[4:])) > 4
    if rule is Rule.JWT:
        return _json_part(value.split(b".", 1)[0])
    if rule is Rule.PRIVATE_KEY:  # a documentation's key whose body begins "EXAMPLE" is not one
        body = re.sub(rb"\s|\\n", b"", value)
        return len(body) >= 64 and not body.startswith(b"EXAMPLE")
    if rule in (Rule.GITHUB_TOKEN, Rule.GITLAB_TOKEN, Rule.NPM_TOKEN):
        body = value.split(b"_", 1)[-1].split(b"-", 1)[-1]
        return len(set(body)) > 6  # not ghp_xxxx… or glpat-XXXX…
    return True


def _json_part(part: bytes) -> bool:
    """True when a JWT part decodes (base64url) to a JSON object."""
    try:
        doc = json.loads(base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4)))
    except (binascii.Error, ValueError):
        return False
    return isinstance(doc, dict)


def secret_value(match: Match) -> bytes:
    """The value to redact: a key's body without its line breaks."""
    if match.rule is Rule.PRIVATE_KEY:
        return re.sub(rb"\s|\\n", b"", match.value)
    return match.value


# ---- names that say "this is a secret" ------------------------------------------------------------
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")  # DB_PASSWORD, apiKey, HTTPServer
_SECRET_WORDS = frozenset({"PASSWORD", "PASSWD", "PASSPHRASE", "PASS", "SECRET", "SECRETS", "TOKEN", "APIKEY",
                           "CREDENTIAL", "CREDENTIALS", "PRIVATEKEY"})  # fmt: skip
_SECRET_PAIRS = frozenset({("API", "KEY"), ("ACCESS", "KEY"), ("PRIVATE", "KEY"), ("SECRET", "KEY"),
                           ("CLIENT", "SECRET"), ("AUTH", "TOKEN"), ("MASTER", "KEY"), ("SIGNING", "KEY"),
                           ("ENCRYPTION", "KEY")})  # fmt: skip
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD", "PASS_MAX_DAYS", "PASS_MIN_DAYS", "PASS_WARN_AGE"})


def secret_name(name: str, loose: bool = False) -> bool:
    """True when a variable's name says it holds a secret (``DB_PASSWORD``, ``apiKey``, ``GH_TOKEN``).

    ``loose`` (a .env file) also counts a plain ``KEY`` word (``STRIPE_KEY``); in an image's
    environment that is too often public (``GPG_KEY`` is a key's fingerprint)."""
    if name.upper() in _NOT_SECRET_NAMES:
        return False
    words = [w.upper() for w in _WORDS.findall(name)]
    if any(w in _SECRET_WORDS for w in words):
        return True
    if any(p in _SECRET_PAIRS for p in itertools.pairwise(words)):
        return True
    return loose and "KEY" in words


_PLACEHOLDER = re.compile(
    r"(?i)^(?:|\$.*|%.*%|<.*>|\[.*\]|\{\{.*\}\}|x+|\*+|\.+|-+|changeme|change_?it|password|secret|"
    r"token|null|none|nil|true|false|undefined|example|dummy|test|todo|your[_-].*|replace[_-]?me.*)$"
)


def placeholder(value: str) -> bool:
    """True for a value that is not a secret but stands for one (empty, ``$VAR``, ``<token>``,
    ``changeme``, ``xxxx``…): detect-secrets' and gitleaks' lists of such values, in one expression."""
    return _PLACEHOLDER.match(value.strip().strip("\"'")) is not None
