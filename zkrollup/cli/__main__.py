"""`python -m zkrollup.cli`: the same as the `zkrollup` command."""

import sys

from zkrollup.cli import main

sys.exit(main())
