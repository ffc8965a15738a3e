"""Fixtures shared by the test files (`cli`, `server`; their parts are in harness.py), and the
Hypothesis profiles for the property tests (tests/test_laws.py, tests/test_limits.py).

- `ci` (the default): enough examples to catch the usual slips, and every law together well under
  a minute on two cores.
- `deep`: thousands of examples per law, for a run by hand before a release or after touching the
  grammar, the checker or the formatter:

      HYPOTHESIS_PROFILE=deep python -m pytest tests/test_laws.py

No deadline in either: the first examples pay for importing phonenumbers metadata and building
the parser, and a slow CI machine is not a failing law.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence

import pytest
from harness import Run, serving
from hypothesis import HealthCheck, settings

from querylang.cli import main
from querylang.server import ReferenceServer

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


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Call `main(argv)` with `stdin` as standard input; return the exit code and the output."""

    def run(argv: Sequence[str], stdin: str = "") -> Run:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(list(argv))
        except SystemExit as exit:  # argparse: --help and usage errors
            code = exit.code if isinstance(exit.code, int) else 1
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[ReferenceServer]:
    """The reference server with the test module's `CALLS`, requiring its `KEY`."""
    with serving(request.module.CALLS, request.module.KEY) as server:
        yield server
