"""The errors of a registry source that callers tell apart."""

from __future__ import annotations

from ...errors import LayerScopeError


class RegistryError(LayerScopeError):
    """A registry could not give the image: unreachable, refused, unknown tag or blob, bad data."""


class AuthRequired(RegistryError):
    """The registry wants credentials (none given), or refused the ones given.

    ``registry`` is the host as the reference names it (``docker.io``, ``127.0.0.1:5000``): the key
    under which the GUI asks for, keeps and passes (``SourceOptions.creds``) credentials for a retry.
    ``rejected`` is True when credentials were sent and refused.
    """

    def __init__(self, message: str, ref: str, registry: str, rejected: bool = False) -> None:
        super().__init__(message, ref)
        self.registry = registry
        self.rejected = rejected
