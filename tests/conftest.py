"""Hypothesis profiles for the property tests (tests/test_laws.py, tests/test_limits.py).

- `ci` (the default): enough examples to catch the usual slips, and every law together well under
  a minute on two cores.
- `deep`: thousands of examples per law, for a run by hand before a release or after touching the
  grammar, the checker or the formatter:

      HYPOTHESIS_PROFILE=deep python -m pytest tests/test_laws.py

No deadline in either: the first examples pay for importing phonenumbers metadata and building
the parser, and a slow CI machine is not a failing law.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "deep",
    max_examples=5_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
