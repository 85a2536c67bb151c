"""Reading tar streams: headers decoded by LayerScope itself, lean records kept, never file bytes.

Python's ``tarfile`` keeps every member it has read (cpython issue 102120) and raises on the tars
some real tools write (no end-of-archive blocks, GNU base-256 ids), so LayerScope reads headers
itself. The data flows through these modules in order:

* ``source``: where the bytes come from (a memory-mapped buffer, or a decompressing stream);
* ``header``: one 512-byte header decoded (fields, numbers, checksum, type);
* ``extended``: PAX records and GNU long names, kept until the member they describe;
* ``sparse``: sparse maps read from the headers, and a sparse file's content rebuilt from them;
* ``members``: the real members one by one, extended headers applied, data skipped;
* ``index``: members become entries (names checked, whiteouts and eStargz told apart), within an
  ``IndexBudget`` (``budget``), with bounded ``warnings``;
* ``content``: the stored bytes of chosen entries, by offset, in one pass.
"""
