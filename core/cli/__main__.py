"""``python -m layerscope.core.cli``: the subcommands without the launcher."""

import sys

from . import main

if __name__ == "__main__":  # not when a tool walks the package and imports every module
    sys.exit(main())
