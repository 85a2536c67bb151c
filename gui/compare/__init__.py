"""The compare view: two images side by side (issue 16), in a window of its own.

flow         what to compare (``SideSpec``), the jobs that open, load and diff both images off the
             GUI thread (kept in a ``JobSlot`` of gui/jobs.py: one live job, superseded results
             dropped), and the entry points the main window calls (Compare With…, a Ctrl-drop, the
             image picker's Compare)
index        ``DiffIndex``: the differences as a tree (children per folder), made off the GUI thread
layers_model the two layer stacks as aligned rows, shared layers joined (``JoinDelegate`` paints it)
tree_model   the lazy tree of differences: marks, sizes, size delta per folder, sorting, "only changed"
config_model the config settings and history steps that differ
file_diff    one selected file: a highlighted unified diff, or sizes, digests and a hex diff
window       ``CompareWindow``: the panels above, the verdict, progress, one-line errors
"""
