"""The persistent cache: layer indexes and per-image figures kept between runs, in the user's cache folder.

``settings`` says where and how large (XDG_CACHE_HOME, LAYERSCOPE_CACHE_MAX, ``--no-cache``);
``folder`` keeps the files (owner checks, atomic writes, LRU eviction); ``fileformat`` seals each
file (magic, versions, key, checksum); ``columns`` is the compact payload encoding; ``layers`` and
``figures`` turn layer indexes and figures into payloads and back; ``keys`` says what makes an entry
valid. Nothing read from the cache is trusted until its header, key and checksum match; nothing is
ever unpickled.
"""
