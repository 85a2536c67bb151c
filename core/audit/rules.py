"""What the audit looks for: every rule once, with its severity, its words for people, and where the
facts behind it came from.

The secret patterns are LayerScope's own regular expressions; the facts they encode (token prefixes,
lengths, alphabets, placeholder values) were read from the public rule sets of gitleaks
(``cmd/generate/config/rules/*.go``), trufflehog (``pkg/detectors/*``) and detect-secrets
(``detect_secrets/plugins/*.py``), or from the file format's own documentation. ``RuleInfo.source``
says which, per rule.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Severity(StrEnum):
    """How bad a finding is; ``--fail-on`` compares by ``rank``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """1 for low, 2 for medium, 3 for high."""
        return _RANK[self]


_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}


class Rule(StrEnum):
    """One kind of finding; its value is the id that JSON, ``.layerscope-audit`` and flags use."""

    # secrets by content (any text file)
    PRIVATE_KEY = "private-key"
    AWS_ACCESS_KEY = "aws-access-key"
    AWS_SECRET_KEY = "aws-secret-key"
    GCP_API_KEY = "gcp-api-key"
    AZURE_STORAGE_KEY = "azure-storage-key"
    GITHUB_TOKEN = "github-token"
    GITLAB_TOKEN = "gitlab-token"
    SLACK_TOKEN = "slack-token"
    SLACK_WEBHOOK = "slack-webhook"
    NPM_TOKEN = "npm-token"
    PYPI_TOKEN = "pypi-token"
    JWT = "jwt"
    # secrets by name (the file's name says what its content is)
    SSH_KEY_FILE = "ssh-key-file"
    PGPASS = "pgpass"
    GIT_CREDENTIALS = "git-credentials"
    NETRC = "netrc-password"
    NPMRC_AUTH = "npmrc-auth"
    DOCKER_AUTHS = "docker-auths"
    KUBECONFIG_CREDENTIALS = "kubeconfig-credentials"
    ENV_FILE_SECRET = "env-file-secret"
    # the filesystem
    SETUID = "setuid"
    SETGID = "setgid"
    WORLD_WRITABLE = "world-writable"
    DEVICE_OUTSIDE_DEV = "device-outside-dev"
    # the config and the history
    RUNNING_AS_ROOT = "running-as-root"
    CONFIG_ENV_SECRET = "config-env-secret"
    HISTORY_SECRET = "history-secret"
    BUILD_ARG_SECRET = "build-arg-secret"
    CURL_USER = "curl-user"

    @property
    def info(self) -> RuleInfo:
        """Severity, title and source of this rule."""
        return RULES[self]

    @property
    def severity(self) -> Severity:
        """The severity of this rule's findings."""
        return RULES[self].severity


class RuleInfo(NamedTuple):
    """A rule's severity, what it means in one line, and where the facts behind it came from."""

    severity: Severity
    title: str
    source: str


_H, _M, _L = Severity.HIGH, Severity.MEDIUM, Severity.LOW

RULES: dict[Rule, RuleInfo] = {
    Rule.PRIVATE_KEY: RuleInfo(
        _H,
        "a private key (PEM, OpenSSH, PGP or PuTTY form)",
        "gitleaks private-key; detect-secrets PrivateKeyDetector (key types, PuTTY); trufflehog "
        "privatekey (a body of at least 64 characters, not just the BEGIN line)",
    ),
    Rule.AWS_ACCESS_KEY: RuleInfo(
        _H,
        "an AWS access key id",
        "gitleaks aws-access-token (AKIA/ASIA/ABIA/ACCA + 16 of A-Z0-9; values ending in EXAMPLE are "
        "AWS's documentation placeholders); detect-secrets AWSKeyDetector",
    ),
    Rule.AWS_SECRET_KEY: RuleInfo(
        _H,
        "an AWS secret access key",
        "detect-secrets AWSKeyDetector (40 base64 characters after aws_secret_access_key)",
    ),
    Rule.GCP_API_KEY: RuleInfo(_H, "a Google Cloud API key", "gitleaks gcp-api-key (AIza + 35)"),
    Rule.AZURE_STORAGE_KEY: RuleInfo(
        _H, "an Azure storage account key", "detect-secrets AzureStorageKeyDetector (AccountKey= + 88)"
    ),
    Rule.GITHUB_TOKEN: RuleInfo(
        _H,
        "a GitHub token",
        "gitleaks github-pat, github-oauth, github-app-token, github-refresh-token "
        "(ghp_/gho_/ghu_/ghs_/ghr_ + 36), github-fine-grained-pat (github_pat_ + 82)",
    ),
    Rule.GITLAB_TOKEN: RuleInfo(
        _H,
        "a GitLab token",
        "gitleaks gitlab-pat, gitlab-deploy-token, gitlab-runner-authentication-token, gitlab-ptt, "
        "gitlab-feed-token, gitlab-scim-token (prefixes and lengths)",
    ),
    Rule.SLACK_TOKEN: RuleInfo(
        _H,
        "a Slack token",
        "detect-secrets SlackDetector (xox[abeoprs]- and numeric parts); gitleaks slack-*",
    ),
    Rule.SLACK_WEBHOOK: RuleInfo(
        _H, "a Slack webhook URL", "gitleaks slack-webhook-url; detect-secrets SlackDetector"
    ),
    Rule.NPM_TOKEN: RuleInfo(_H, "an npm access token", "gitleaks npm-access-token (npm_ + 36)"),
    Rule.PYPI_TOKEN: RuleInfo(
        _H,
        "a PyPI upload token",
        "detect-secrets PypiTokenDetector (pypi-AgEIcHlwaS5vcmc / pypi-AgENdGVzdC5weXBpLm9yZw + 70 or more)",
    ),
    Rule.JWT: RuleInfo(
        _M,
        "a JSON Web Token",
        "gitleaks jwt (eyJ….eyJ….sig); detect-secrets JwtTokenDetector (the parts must decode to JSON)",
    ),
    Rule.SSH_KEY_FILE: RuleInfo(
        _M,
        "a file named like an SSH private key whose content is not a recognised key",
        "OpenSSH's default identity file names (ssh-keygen(1), ssh_config(5))",
    ),
    Rule.PGPASS: RuleInfo(
        _H, "a PostgreSQL password file entry", "PostgreSQL's .pgpass format (host:port:db:user:password)"
    ),
    Rule.GIT_CREDENTIALS: RuleInfo(
        _H,
        "a password in git's credential store",
        "git-credential-store(1) format; trufflehog uri (scheme://user:password@host)",
    ),
    Rule.NETRC: RuleInfo(_H, "a password in a .netrc", "the netrc format (ftp(1), curl --netrc)"),
    Rule.NPMRC_AUTH: RuleInfo(
        _H,
        "an npm registry credential in .npmrc",
        "detect-secrets NpmDetector (//registry/:_authToken=, _auth=); npm's npmrc documentation",
    ),
    Rule.DOCKER_AUTHS: RuleInfo(
        _H,
        "a registry credential in a Docker or Podman auth file",
        "the docker CLI's config.json / containers-auth.json(5) format (auths.*.auth, identitytoken)",
    ),
    Rule.KUBECONFIG_CREDENTIALS: RuleInfo(
        _H,
        "a client key, token or password in a kubeconfig",
        "kubectl's kubeconfig format (users[].user.client-key-data, token, password)",
    ),
    Rule.ENV_FILE_SECRET: RuleInfo(
        _M,
        "a secret-named assignment in a .env file",
        "detect-secrets KeywordDetector (password/secret/token/key names); gitleaks generic-api-key",
    ),
    Rule.SETUID: RuleInfo(_M, "a setuid file", "chmod(1) u+s: it runs as its owner"),
    Rule.SETGID: RuleInfo(_L, "a setgid file", "chmod(1) g+s: it runs with its group"),
    Rule.WORLD_WRITABLE: RuleInfo(
        _M, "a world-writable file, or folder without the sticky bit", "chmod(1) o+w, +t"
    ),
    Rule.DEVICE_OUTSIDE_DEV: RuleInfo(_M, "a device node outside /dev", "mknod(1)"),
    Rule.RUNNING_AS_ROOT: RuleInfo(
        _M, "the image runs as root (User empty or 0)", "OCI image config (config.User)"
    ),
    Rule.CONFIG_ENV_SECRET: RuleInfo(
        _H,
        "the image's environment sets a secret-named variable",
        "detect-secrets KeywordDetector (names); OCI image config (config.Env)",
    ),
    Rule.HISTORY_SECRET: RuleInfo(
        _H,
        "a build step's command carries a secret (ENV/ARG value, or a token)",
        "detect-secrets KeywordDetector (names); the content rules above for tokens",
    ),
    Rule.BUILD_ARG_SECRET: RuleInfo(
        _H,
        "a RUN step records a secret-named --build-arg value",
        "Docker's history form `|N NAME=value … /bin/sh -c …` of the build args a RUN step used",
    ),
    Rule.CURL_USER: RuleInfo(
        _H, "a build step runs curl -u user:password", "gitleaks curl-auth-user (and its placeholder list)"
    ),
}
"""Every rule's severity, title and source, in the order the enum lists them."""


def parse_rule(word: str) -> Rule:
    """The rule ``word`` names (its id). Raises ValueError listing the ids close to it."""
    try:
        return Rule(word.strip())
    except ValueError:
        import difflib

        close = difflib.get_close_matches(word.strip(), [r.value for r in Rule], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(r.value for r in Rule)})"
        raise ValueError(f"unknown audit rule {word!r}{hint}") from None
