"""`python -m querylang`: the same as the `querylang` command."""

import sys

from querylang.cli import main

sys.exit(main())
