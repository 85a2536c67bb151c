"""Open an image archive and describe the images in it, without reading their layers.

Modules, in the order the data flows:
``open`` (detect the kind of file by content: the entry point) -> ``compression`` (sniff, and
decompress a whole gzip/zstd archive) -> ``container`` (members of a tar file or a folder) ->
``context`` (what the readers share) -> ``oci`` (index.json) / ``docker`` (manifest.json) ->
``image`` (one image's record) with ``history`` -> ``records`` (the values a caller gets).
``jsondoc`` loads JSON within limits; ``mediatypes`` and ``formats`` name the kinds; ``tags``
compares image references.
"""
