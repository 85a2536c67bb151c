"""Where the bytes went: sizes by folder, the treemap layout, each layer's visible and hidden
bytes, the waste explained, and an image's overview.

Each module is one idea and imports no Qt; the window calls them from a worker once the tree is
ready (``usage_of_tree``, ``explain_waste``, ``layer_bars``, ``image_overview``) and lays a treemap
out (``layout``) for what it shows.
"""
