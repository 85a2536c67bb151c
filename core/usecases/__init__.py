"""What a user does with an image, for the command line and the window alike.

image     open an archive and pick the image the user named (--image, --platform), check a layer number
summary   the facts ``inspect`` shows about an archive and its images; checking blob digests
listing   the rows ``ls`` shows: the merged filesystem or one layer's own changes
files     find one file by its path (following symlinks) and read its bytes, for ``cat``
figures   the dive-compatible and LayerScope waste figures ``ci`` judges

Loading an image for the window (index, merge, analyse) is ``session.load``; exporting is
``export.spec.run`` with an ``ExportSpec``. These modules return plain values; argument parsing and
printing stay in ``core/cli``, widgets in ``gui``.
"""
