#!/usr/bin/env bash
# The one test command (README, CI): type-check, then every test file by tier.
# Node 20's test runner needs the files listed explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit
mapfile -t files < <(find tests/unit tests/integration tests/e2e -name '*.test.ts' 2>/dev/null | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --import tsx --test --test-reporter=spec "${files[@]}"
