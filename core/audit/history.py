"""What the image's config and build history give away: running as root, secret-named ENV/ARG values,
the build args a RUN step recorded, ``curl -u user:password``, tokens typed into a command.

The history is part of every copy of the image (``docker history`` shows it), so a secret there is
shipped like a file's.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

from ..archive.records import ImageRecord
from ..display import plain_command
from .finding import Finding, redact
from .patterns import find_secrets, placeholder, secret_name, secret_value
from .rules import Rule


def config_findings(image: ImageRecord) -> Iterator[Finding]:
    """Running as root, and secret-named variables of the image's environment."""
    cfg: dict[str, Any] = image.config.get("config") or {}
    user = str(cfg.get("User") or "").strip()
    name = user.split(":", 1)[0]
    if name in ("", "0", "root"):
        said = f"User is {user!r}" if user else "no User is set"
        yield Finding(Rule.RUNNING_AS_ROOT, None, None, f"the image runs as root ({said})")
    env = cfg.get("Env") or []
    for item in env if isinstance(env, list) else []:
        if not isinstance(item, str) or "=" not in item:
            continue
        key, value = item.split("=", 1)
        if secret_name(key) and not placeholder(value):
            secret = redact(key, value)
            yield Finding(Rule.CONFIG_ENV_SECRET, None, None, f"environment variable {secret}", secret=secret)


_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_CURL_USER = re.compile(r"""\bcurl\b[^|;&\n]*?\s(?:-u|--user)(?:=|\s+)(?:"([^"]*)"|'([^']*)'|(\S+))""")


def history_findings(image: ImageRecord) -> Iterator[Finding]:
    """Secrets in the build steps' command lines, step by step; ``layer`` is the layer a step made."""
    for k, step in enumerate(image.history):
        command = plain_command(step.created_by)
        where = f"history step {k}"
        for rule, key, value in _step_secrets(command):
            secret = redact(key, value)
            yield Finding(rule, None, step.layer, f"{where}: {secret}", secret=secret)
        for m in find_secrets(step.created_by.encode("utf-8", "replace")):
            secret = redact(m.kind, secret_value(m))
            yield Finding(Rule.HISTORY_SECRET, None, step.layer, f"{where}: {secret}", secret=secret)


def redacted_command(command: str) -> str:
    """``command`` (a step, as recorded or readable) with each secret value it spells out (what
    ``history_findings`` finds: ENV/ARG and build-arg values, ``curl -u`` passwords, keys and tokens
    of known shapes) replaced by its redacted form: ``ENV API_TOKEN=[secret "ab12…" (40 characters)]``."""
    values = {value for _rule, _key, value in _step_secrets(plain_command(command))}  # raw or readable
    values.update(
        m.value.decode("utf-8", "replace") for m in find_secrets(command.encode("utf-8", "replace"))
    )
    for value in sorted(values, key=len, reverse=True):  # a longer value may hold a shorter one
        if not value or value not in command:
            continue
        shown = f"[{redact('secret', value)}]"
        alone = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)")  # a value, not part of a word
        if alone.search(command):
            command = alone.sub(shown.replace("\\", r"\\"), command)  # literally, backslashes too
        else:
            command = command.replace(value, shown)
    return command


def redacted_document(doc: Any) -> tuple[Any, int]:
    """A JSON document (an image's config, manifest, index) with every secret value its strings
    spell out in redacted form, and how many strings changed: an environment entry whose name says
    secret (``DB_PASSWORD=…``, as ``config_findings`` finds it), and what ``redacted_command`` finds
    in any other string (history steps' commands, labels). Keys are left as they are."""
    changed = 0

    def text(s: str) -> str:
        nonlocal changed
        key, eq, value = s.partition("=")
        if eq and _ENV_NAME.fullmatch(key) and secret_name(key) and value and not placeholder(value):
            out = f"{key}=[{redact('secret', value)}]"
        else:
            out = redacted_command(s)
        if out != s:
            changed += 1
        return out

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return text(v)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    return walk(doc), changed


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _step_secrets(command: str) -> Iterator[tuple[Rule, str, str]]:
    """(rule, what, value) for each secret a step's command line spells out."""
    word, _, rest = command.partition(" ")
    if word in ("ENV", "ARG"):
        for key, value in _assignments(rest, word == "ENV"):
            if secret_name(key) and not placeholder(value):
                yield Rule.HISTORY_SECRET, f"{word} {key}", value
    body = command.removeprefix("RUN ").lstrip()
    m = re.match(r"\|([0-9]+) ", body)
    if m:  # the build args a RUN step used: |N NAME=value ... command
        for key, value in _assignments(body[m.end() :], False)[: int(m.group(1))]:
            if secret_name(key) and not placeholder(value):
                yield Rule.BUILD_ARG_SECRET, f"build arg {key}", value
    for c in _CURL_USER.finditer(command):
        cred = next(g for g in c.groups() if g is not None)
        user, colon, password = cred.partition(":")
        if colon and not placeholder(password):
            yield Rule.CURL_USER, f"curl password of {user or '?'}", password


def _assignments(text: str, env_form: bool) -> list[tuple[str, str]]:
    """``A=1 B="x y"`` -> [("A", "1"), ("B", "x y")]; ``ENV NAME value`` (the old form) too."""
    try:
        words = shlex.split(text, posix=True)
    except ValueError:
        words = text.split()
    out = []
    for w in words:
        m = _ASSIGNMENT.match(w)
        if m is None:
            break
        out.append((m.group(1), w[m.end() :]))
    if not out and env_form and len(words) >= 2 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", words[0]):
        out.append((words[0], " ".join(words[1:])))
    return out
