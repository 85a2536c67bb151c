"""What is installed in an image, layer by layer: package databases (dpkg, apk, rpm, Python, npm)
read from the merged filesystem at every layer that changed them, and the OS the image names.

``package_history(loaded)`` is the one entry point (CLI ``packages``, the GUI's Packages tab);
``identify_os`` reads the OS alone (``inspect``, the status bar).
"""

from __future__ import annotations

from .model import Ecosystem, LayerPackages, Package, PackageHistory, Upgrade
from .os_release import OsRelease, identify_os, parse_os_release
from .scan import image_os, package_history

__all__ = [
    "Ecosystem",
    "LayerPackages",
    "OsRelease",
    "Package",
    "PackageHistory",
    "Upgrade",
    "identify_os",
    "image_os",
    "package_history",
    "parse_os_release",
]
