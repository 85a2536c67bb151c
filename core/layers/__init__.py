"""The layers of an image: indexed once, their files' content read on demand, their digests checked.

``source`` opens a layer's uncompressed tar stream; ``index`` indexes the layers of an image (in
parallel, cached by the caller's ``LayerCache``); ``content`` reads a file's bytes back;
``verify`` checks blob digests and diff_ids.
"""
