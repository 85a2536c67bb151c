"""Registry credentials the user gave in the window: kept in memory for the session, and on disk only
when they ticked "remember" (``$XDG_CONFIG_HOME/layerscope/auth.json``, mode 0600, in the ``auths``
format of Docker's config.json so other tools can read it too)."""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Given:
    """What the user typed when a registry asked who they are."""

    creds: str  # USER:PASS
    remember: bool
    """Write them to the auth file (otherwise they live in memory until the app quits)."""


_session: dict[str, str] = {}
"""USER:PASS by registry host, for the life of the process."""


def auth_file() -> Path:
    """Where remembered credentials live."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "layerscope" / "auth.json"


def credentials_for(registry: str) -> str | None:
    """USER:PASS for ``registry`` given in this session or remembered; None when there are none."""
    if registry in _session:
        return _session[registry]
    entry = _read().get(registry)
    if not isinstance(entry, dict) or not isinstance(entry.get("auth"), str):
        return None
    try:
        text = base64.b64decode(entry["auth"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return text if ":" in text else None


def keep(registry: str, creds: str, remember: bool) -> None:
    """Use ``creds`` for ``registry`` from now on; write them to the auth file only when ``remember``.

    Raises OSError when the file cannot be written."""
    _session[registry] = creds
    if not remember:
        return
    auths = _read()
    auths[registry] = {"auth": base64.b64encode(creds.encode("utf-8")).decode("ascii")}
    path = auth_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".auth-", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"auths": auths}, f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def forget(registry: str) -> None:
    """Credentials for ``registry`` were refused: drop them from the session (the file keeps them until
    the user gives new ones)."""
    _session.pop(registry, None)


def _read() -> dict[str, object]:
    try:
        data = json.loads(auth_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    auths = data.get("auths") if isinstance(data, dict) else None
    return dict(auths) if isinstance(auths, dict) else {}
