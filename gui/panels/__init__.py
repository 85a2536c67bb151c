"""The panels of the explorer window, one module each; they render what the controller says."""
