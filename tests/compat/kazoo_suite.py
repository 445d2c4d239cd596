#!/usr/bin/env python3
"""Runs test modules (or one class of a module) of kazoo's own suite (kazoo.tests, shipped with kazoo) against
servers that are already running, instead of the Java cluster kazoo's harness would start itself.

kazoo's KazooTestHarness asks kazoo.testing.harness.get_global_cluster() for its servers; this driver answers
with the servers given (one, or every member of an ensemble), which the caller started with the settings that harness would have used (for the
SASL tests: authProvider.1=SASLAuthenticationProvider, a JAAS file with user_super and user_jaasuser, and
-Dzookeeper.DigestAuthenticationProvider.superDigest). Each test's outcome is printed as one line,
"<module>::<class>::<test> PASSED|FAILED|SKIPPED", sorted, so two servers' runs can be compared; pytest's own
report follows on stderr. The exit code is pytest's.

    kazoo_suite.py --server 127.0.0.1:2181 [--server ...] --module test_sasl [--module test_client::TestReconfig ...]

For TestReconfig the ensemble needs reconfigEnabled=true and the super digest of super:test, as kazoo's harness
configures its own.
"""
import argparse
import io
import os
import sys
from contextlib import redirect_stdout


class ExternalServer:
    def __init__(self, address):
        self.address = address
        self.running = True


class ExternalCluster(list):
    """The shape of kazoo.testing.common.ZookeeperCluster the harness touches; the server is not ours to stop."""

    def start(self):
        pass

    def stop(self):
        pass

    def terminate(self):
        pass


class Outcomes:
    """A pytest plugin collecting one outcome per test (the call phase, or the setup phase for skips/errors)."""

    def __init__(self):
        self.lines = {}

    def pytest_runtest_logreport(self, report):
        name = report.nodeid.split("/")[-1]
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = "ERROR" if report.when == "setup" and report.failed else report.outcome.upper()
            self.lines[name] = outcome


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", action="append", required=True, help="host:port of a running server (repeat for an ensemble)")
    parser.add_argument("--module", action="append", required=True,
                        help="a module of kazoo.tests, e.g. test_sasl, or one class of it, e.g. test_client::TestReconfig")
    args = parser.parse_args()

    # test_client.py imports the old standalone mock package; the standard library's unittest.mock is the same API.
    import unittest.mock
    sys.modules.setdefault("mock", unittest.mock)
    import pytest
    import kazoo.tests
    import kazoo.testing.harness as harness

    cluster = ExternalCluster([ExternalServer(server) for server in args.server])
    harness.get_global_cluster = lambda: cluster

    directory = os.path.dirname(kazoo.tests.__file__)
    paths = []
    for module in args.module:
        name, _, selected = module.partition("::")
        paths.append(os.path.join(directory, name + ".py") + (f"::{selected}" if selected else ""))
    outcomes = Outcomes()
    report = io.StringIO()
    with redirect_stdout(report):
        code = pytest.main(["-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", *paths], plugins=[outcomes])
    sys.stderr.write(report.getvalue())
    for name in sorted(outcomes.lines):
        print(f"{name} {outcomes.lines[name]}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
