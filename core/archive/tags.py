"""Image references (tags) as users write them: ``ubuntu:22.04`` for ``docker.io/library/ubuntu:22.04``."""

from __future__ import annotations

_FAMILIAR_PREFIXES = ("docker.io/library/", "docker.io/")
_SHORTHAND_PREFIXES = ("docker.io/library/", "docker.io/", "localhost/")


def familiar(tag: str) -> str:
    """``docker.io/library/x:1`` -> ``x:1``; ``docker.io/a/b:1`` -> ``a/b:1``; anything else unchanged."""
    for prefix in _FAMILIAR_PREFIXES:
        if tag.startswith(prefix):
            return tag[len(prefix) :]
    return tag


def add_tag(tags: list[str], tag: str) -> None:
    """Add ``tag`` unless the same reference is there already (the shorter spelling wins)."""
    f = familiar(tag)
    for i, old in enumerate(tags):
        if familiar(old) == f:
            if len(tag) < len(old):
                tags[i] = tag
            return
    tags.append(tag)


def tag_matches(tag: str, want: str) -> bool:
    """Whether a user's ``want`` names ``tag``: the tag itself, or it without a default prefix.

    The prefixes are ``docker.io/library/``, ``docker.io/`` and ``localhost/``.
    """
    if tag == want:
        return True
    return any(tag.startswith(p) and tag[len(p) :] == want for p in _SHORTHAND_PREFIXES)
