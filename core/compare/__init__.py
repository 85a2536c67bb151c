"""Compare two images, or two points of one image: what changed, and a one-line verdict.

side      one side of a comparison: an image's filesystem merged up to a layer, and its archive
layers    shared layers (same diff_id, positions may differ), layers only in A or B, the common base
content   the digests of file contents, read only where the layers do not already tell
files     added, removed and changed paths between two merged filesystems, and the size per folder
config    Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels, platform, history
verdict   identical / same content, metadata differs / N files differ, +X bytes
textdiff  one file on both sides: a unified diff of text, sizes and digests of binaries
diff      the entry: two loaded images, or two layers of one (``diff_images``, ``diff_layers``)

Plain values only (frozen records, StrEnums); no Qt. ``core/cli/diff.py`` prints them, the GUI's
compare view renders them.
"""
