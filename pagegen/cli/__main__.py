"""``python -m pagegen.cli``: the same command line as the ``pagegen`` script."""

import sys

from pagegen.cli import main

sys.exit(main())
