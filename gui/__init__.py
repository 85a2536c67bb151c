"""LayerScope GUI (PySide6). Importing this package does not import Qt; layerscope.gui.app does."""
