"""`python -m pavilion ...`: the same command line as the `pavilion` script."""

import sys

from pavilion.cli import main

sys.exit(main())
