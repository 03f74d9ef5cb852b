"""``python -m attribkit.cli``: the ``attribkit`` command."""

import sys

from attribkit.cli import main

sys.exit(main())
