#!/usr/bin/env python3
"""Runs test modules of kazoo's own suite (kazoo.tests, shipped with kazoo) against a server that is already
running, instead of the Java cluster kazoo's harness would start itself.

kazoo's KazooTestHarness asks kazoo.testing.harness.get_global_cluster() for its servers; this driver answers
with the one server given, which the caller started with the settings that harness would have used (for the
SASL tests: authProvider.1=SASLAuthenticationProvider, a JAAS file with user_super and user_jaasuser, and
-Dzookeeper.DigestAuthenticationProvider.superDigest). Each test's outcome is printed as one line,
"<module>::<class>::<test> PASSED|FAILED|SKIPPED", sorted, so two servers' runs can be compared; pytest's own
report follows on stderr. The exit code is pytest's.

    kazoo_suite.py --server 127.0.0.1:2181 --module test_sasl [--module ...]
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
    parser.add_argument("--server", required=True, help="host:port of a running server")
    parser.add_argument("--module", action="append", required=True, help="a module of kazoo.tests, e.g. test_sasl")
    args = parser.parse_args()

    import pytest
    import kazoo.tests
    import kazoo.testing.harness as harness

    cluster = ExternalCluster([ExternalServer(args.server)])
    harness.get_global_cluster = lambda: cluster

    directory = os.path.dirname(kazoo.tests.__file__)
    paths = [os.path.join(directory, module + ".py") for module in args.module]
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
