# Data-only package: icons, desktop entry, MIME package and the bundled sample image.
# Found at run time through layerscope.core.resources, never through paths relative to a checkout.
