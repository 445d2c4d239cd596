#!/usr/bin/env python3
"""Runs kazoo's own TestReconfig (kazoo/tests/test_client.py, shipped with kazoo) against an ensemble that is
already running, instead of the cluster kazoo's harness would start. The harness asks
kazoo.testing.harness.get_global_cluster() for its servers; this answers with the members given. The ensemble must
have reconfigEnabled=true and the super digest of super:test, as kazoo's harness configures its own.
Prints one line per test, "<test> PASSED|FAILED|SKIPPED", sorted; the exit code is pytest's.

    kazoo_reconfig.py 127.0.0.1:2181 127.0.0.1:2182 ...
"""
import io
import os
import sys
from contextlib import redirect_stdout


class Member:
    def __init__(self, address):
        self.address = address
        self.running = True


class Members(list):
    def start(self):
        pass

    def stop(self):
        pass

    def terminate(self):
        pass


class Outcomes:
    def __init__(self):
        self.lines = {}

    def pytest_runtest_logreport(self, report):
        name = report.nodeid.split("::")[-1]
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.lines[name] = "ERROR" if report.when == "setup" and report.failed else report.outcome.upper()


def main():
    # test_client.py imports the old standalone mock package; the standard library's unittest.mock is the same API.
    import unittest.mock
    sys.modules.setdefault("mock", unittest.mock)
    import pytest
    import kazoo.tests
    import kazoo.testing.harness as harness

    members = Members([Member(address) for address in sys.argv[1:]])
    harness.get_global_cluster = lambda: members
    target = os.path.join(os.path.dirname(kazoo.tests.__file__), "test_client.py") + "::TestReconfig"
    outcomes = Outcomes()
    report = io.StringIO()
    with redirect_stdout(report):
        code = pytest.main(["-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", target], plugins=[outcomes])
    sys.stderr.write(report.getvalue())
    for name in sorted(outcomes.lines):
        print(f"{name} {outcomes.lines[name]}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
