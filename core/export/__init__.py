"""Export from an image to a folder or a tar: what to export, one plan, two sinks, the destination.

``spec`` is the entry point both the CLI and the GUI call: an ``ExportSpec`` says what the user
asked for and ``run`` decides the rest. ``items`` selects what to export, ``plan`` orders it and
resolves hardlinks once, ``folder`` and ``tarball`` write the same plan, ``stored`` copies a layer
blob byte for byte, and ``destination`` builds every output in a temporary sibling renamed into place.
"""
