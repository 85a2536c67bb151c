"""The local container engines as sources: the Docker Engine API and Podman's API over their sockets.

``sockets.py`` finds where an engine listens, ``api.py`` speaks HTTP to it (httpx over the Unix
socket), ``images.py`` lists what it holds, ``export.py`` streams an image out into a private temp
file read by the same reader as files; ``open.py`` is what the rest of LayerScope calls.
"""
