"""LayerScope core: pure-Python parsing, indexing and merge engine for container image archives.

Nothing in this package imports Qt; the GUI depends on it, never the reverse.
"""

__version__ = "0.1.0"
