#!/usr/bin/env bash
# Runs the whole test suite: unit tests, the consensus simulator, and the compatibility tests that drive
# Apache ZooKeeper's own clients against Warden and against Apache ZooKeeper 3.8 itself.
# Ends with one line: "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"

scripts/install-test-deps.sh || exit 1

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet build Warden.slnx -c Release -nologo -clp:ErrorsOnly || { echo "tests: 0 passed, 1 failed (build failed)"; exit 1; }
dotnet test Warden.slnx -c Release --no-build -nologo 2>&1 | tee "$results/console.log"
status=${PIPESTATUS[0]}

# Sum the summary line each test assembly prints ("Passed!  - Failed: 0, Passed: 16, Skipped: 0, ...").
# dotnet test sometimes prints an assembly's line twice; each line names its assembly, so duplicates are dropped.
read -r passed failed skipped < <(
  grep -E '^(Passed|Failed)! +- Failed: ' "$results/console.log" | sort -u | sed -E 's/[^0-9]+/ /g' | awk '
    { f += $1; p += $2; s += $3 } END { printf "%d %d %d\n", p, f, s }')

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ]; then echo "tests: 0 passed, 1 failed (no test ran)"; exit 1; fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
