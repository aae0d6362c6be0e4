#!/usr/bin/env bash
# bench:pipeline before and after in one run window (issue 15). Usage, from the repository root:
#   bash bench/pipeline-before-after.sh [before-tree] [after-tree] [extra bench:pipeline options...]
# before-tree: a checkout of the commit where issue 15 started, with the query counter and the null
# model cherry-picked (default /work/before, a git worktree with node_modules symlinked);
# after-tree: default this checkout. Both runs merge into bench/results/pipeline.{json,md,svg}.
set -euo pipefail
before=${1:-/work/before}
after=${2:-$(pwd)}
shift $(( $# > 2 ? 2 : $# ))
npm run bench:pipeline -- --tree "$before" --label before "$@"
npm run bench:pipeline -- --tree "$after" --label after "$@"
