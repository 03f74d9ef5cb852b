"""``python -m attribkit.cli``: the ``attribkit`` command."""

import sys

from attribkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
