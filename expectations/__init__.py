"""Great Expectations suites of o2c (integrity + cross-system consistency) and their runner.

Importing this package is cheap: Great Expectations (seconds to import) is only imported when
`run_suites` runs. See expectations/README.md for the API and the catalogue.
"""
from expectations.config import ExpectationSettings
from expectations.model import ExpectationResult, ExpectationSpec, SuiteSpec, blocking_failures
from expectations.runner import as_of_for, run_suites
from expectations.suites import ALL_SUITES, EXPECTATION_IDS, SUITE_NAMES, build_suites

__all__ = [
    "ALL_SUITES",
    "EXPECTATION_IDS",
    "SUITE_NAMES",
    "ExpectationResult",
    "ExpectationSettings",
    "ExpectationSpec",
    "SuiteSpec",
    "as_of_for",
    "blocking_failures",
    "build_suites",
    "run_suites",
]
