#!/usr/bin/env bash
# The one test command (README, CI): type-check, then every test file by tier.
# Node 20's test runner needs the files listed explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit
# What a fresh machine may lack, said once up front: without Chromium the browser tests fail, and
# without Debian's prometheus package its tests are skipped with the reason (CI, which installs it,
# sets PARLEY_REQUIRE_PROMETHEUS=1 so there they fail instead).
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || echo "[npm test] no Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium}: the browser tests will fail; apt-get install chromium" >&2
[ -x "${PROMTOOL:-/usr/bin/promtool}" ] || echo "[npm test] no promtool: the Prometheus rule and live-Prometheus tests are skipped; apt-get install prometheus" >&2
mapfile -t files < <(find tests/unit tests/integration tests/e2e -name '*.test.ts' 2>/dev/null | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
run=(node --import tsx --test --test-reporter=spec "${files[@]}")

# Does something answer on host:port? (bash's /dev/tcp: no extra process, a refused port fails at once)
answers() { timeout 2 bash -c "exec 3<>/dev/tcp/${1%:*}/${1##*:}" 2>/dev/null; }
# A machine with nothing running (no PostgreSQL, or no Redis, and no URL given): start them for this
# run (tests/support/services.ts). Where they answer, as on CI, the tests run exactly as before.
if { [ -z "${TEST_DATABASE_URL:-}" ] && ! answers "${TEST_PG_PROBE:-127.0.0.1:5432}"; } \
  || { [ -z "${TEST_REDIS_URL:-}" ] && ! answers "${TEST_REDIS_PROBE:-127.0.0.1:6379}"; }; then
  exec node --import tsx tests/support/services.ts -- "${run[@]}"
fi
exec "${run[@]}"
