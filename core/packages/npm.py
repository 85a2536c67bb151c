"""npm packages: every ``node_modules/<name>/package.json`` (and ``node_modules/@scope/<name>/``).

A package's folder is its identity (npm nests a second version of a name under the package that
needs it); its package.json gives name and version. package.json lists no installed files, so a
package's ``files`` is its folder. Nested package.json files inside a package (not directly in a
node_modules folder) are not packages.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .. import limits
from ..archive.jsondoc import too_deep
from .model import Ecosystem, Found
from .reading import Located, MetadataReader

_PACKAGE_JSON = re.compile(r"(?:^|/)node_modules/(?:@[^/.][^/]*/)?[^/.@][^/]*/package\.json$")


class NpmCatalog:
    """The npm packages of every node_modules folder."""

    ecosystem = Ecosystem.NPM

    def __init__(self) -> None:
        self.found: dict[str, Found] = {}
        self.unsupported: set[str] = set()

    def wants(self, path: str) -> bool:
        """A package.json directly in a package folder of a node_modules folder."""
        return path.endswith("/package.json") and _PACKAGE_JSON.search(path) is not None

    def update(self, changed: set[str], files: dict[str, Located], reader: MetadataReader) -> None:
        """Re-read each package.json the layer changed."""
        for p in changed:
            self.found.pop(p.removesuffix("/package.json"), None)
        got = reader.read_many({p: files[p] for p in changed if p in files}, limits.MAX_PACKAGE_FILE_BYTES)
        for p, raw in got.items():
            found = _package(p, raw, reader)
            if found is not None:
                self.found[found.key] = found


def _package(path: str, raw: bytes, reader: MetadataReader) -> Found | None:
    try:
        doc: Any = json.loads(raw)
    except (ValueError, RecursionError):
        reader.warnings.add(f"/{path}: not valid JSON; not counted as a package")
        return None
    if not isinstance(doc, dict) or too_deep(doc, limits.MAX_JSON_DEPTH):
        reader.warnings.add(f"/{path}: not a package.json object; not counted as a package")
        return None
    name, version = doc.get("name"), doc.get("version")
    folder = path.removesuffix("/package.json")
    if not isinstance(name, str) or not name:
        name = folder.rsplit("node_modules/", 1)[-1]
    if not isinstance(version, str) or not version:
        reader.warnings.add(f"/{path}: no version; not counted as a package")
        return None
    return Found(folder, name, version, None, (folder,), None, path)
