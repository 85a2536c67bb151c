"""Files that are public by nature: CA bundles, package trees, the test fixtures libraries ship.

A CA bundle holds certificates (public keys) only: it is never read. A package tree (a Python
site-packages, node_modules, the system's /usr/share, ...) holds what a package manager installed,
the same bytes on every machine that installs the package: the generic secret patterns skip it unless
the audit is told to read everything, while files named like secrets (an id_rsa, a .env) are read
there too. A private key in a test folder (Python's test certificates, a package's
``test/fixtures/*.pem``), or a key file a package tree holds (a library's own proxy CA), is a
published fixture, not a leak: it is counted, not reported. SSH keys and credential files (.env,
.pgpass, auth files) are reported wherever they are, except in a package tree's test folders.

Some tools publish a credential in their own source: an API key that only identifies the tool to
its vendor, the same bytes in every copy of it (gsutil's key for anonymous requests, whose comment
says "This API key is not secret"; the Cloud SDK's error-reporting keys). Finding one means the
tool is installed, not that a secret leaked: such values are counted as fixtures, wherever they are.
They are known here by their SHA-256, so that this file holds no key.
"""

from __future__ import annotations

import hashlib
import re

_CA_FOLDERS = (
    "etc/ssl/certs/",
    "usr/share/ca-certificates/",
    "usr/local/share/ca-certificates/",
    "etc/pki/ca-trust/",
    "etc/pki/tls/certs/",
    "etc/ca-certificates/",
    "usr/share/pki/ca-trust-source/",
)
_CA_FILES = frozenset(
    {"cacert.pem", "ca-bundle.crt", "ca-certificates.crt", "ca-bundle.pem", "tls-ca-bundle.pem"}
)


def is_ca_bundle(path: str) -> bool:
    """True for the system's trust stores and the CA bundles Python and Node packages ship."""
    if path.startswith(_CA_FOLDERS):
        return True
    base = path.rsplit("/", 1)[-1]
    return base in _CA_FILES and (
        "/certifi/" in f"/{path}" or "/pip/_vendor/" in path or path.startswith("etc/")
    )


_PACKAGE_ANYWHERE = re.compile(
    r"(?:^|/)(?:site-packages|dist-packages|node_modules|gems|vendor)/|(?:^|/)go/pkg/mod/|(?:^|/)lib/python[0-9]"
)
_PACKAGE_ROOTS = (
    "usr/share/",
    "usr/include/",
    "usr/lib/",
    "usr/lib64/",
    "usr/libexec/",
    "usr/local/include/",
    "usr/local/lib/python",
    "usr/local/lib/node_modules/",
    "usr/local/go/",
    "var/lib/dpkg/",
    "var/lib/rpm/",
    "var/lib/apk/",
    "var/cache/",
)


def in_package_tree(path: str) -> bool:
    """True for paths a package manager owns: the system's library and data folders, a language's
    package folders wherever they are (``…/site-packages/``, ``…/node_modules/``), a Python install's
    standard library (``…/lib/python3.12/``)."""
    return path.startswith(_PACKAGE_ROOTS) or _PACKAGE_ANYWHERE.search(path) is not None


_FIXTURE_FOLDERS = frozenset(
    {"test", "tests", "testing", "testdata", "test_data", "test-data", "fixtures", "__tests__", "certdata",
     "dummyserver"}
)  # fmt: skip


_PYTHON_READMES = (".dist-info/METADATA", ".egg-info/PKG-INFO")


def is_test_fixture(path: str) -> bool:
    """True for a file in a test folder (``…/tests/key.pem``, ``…/lib/python3.12/test/certdata/…``,
    ``…/node_modules/y/test/fixtures/…``, a vendored library's ``third_party/x/tests/data/…``), and the
    documentation's examples (``/usr/share/doc``; in a package tree, a Python distribution's
    ``METADATA`` or ``PKG-INFO``, its README as published): what a published project ships to test or
    explain itself."""
    if path.startswith("usr/share/doc/") or (path.endswith(_PYTHON_READMES) and in_package_tree(path)):
        return True
    return any(part in _FIXTURE_FOLDERS for part in path.split("/")[:-1])


_PUBLISHED_VALUES = {
    # gsutil (platform/gsutil/gslib/{gcs_json_api,kms_api,pubsub_api,iamcredentials_api}.py)
    "b3f19cc85129501b94306e7892b522f46fa2dcda7da664cc74a0ca9314d7d984",
    # the Cloud SDK's error and crash reporting (googlecloudsdk/command_lib/crash_handling.py)
    "a73b3ad3b416d981fce267795785aee45bf39224fa07ce8a2e2f5a9fa89ef979",
    "6189b36d964849f34370088524ad63c235eba30974ee3da0d966ed6bac16b50d",
    # the AWS CLI's own documentation: the key ids of the presigned URLs its example outputs show
    # (awscli/examples/ecr/get-download-url-for-layer.rst, ssm/get-deployable-patch-snapshot-for-instance.rst)
    "05b9f5d960901639fef471f294de3e654936487c91e5f9cd019b24dc48ad7984",
    "04fba2c05f91ad4be0d4459fdd0899910cfd97bf564bbfe45c5f42f23f43b857",
}


def is_published_value(value: bytes) -> bool:
    """True for a credential a widely used tool ships in its own source, the same in every copy."""
    return hashlib.sha256(value).hexdigest() in _PUBLISHED_VALUES
