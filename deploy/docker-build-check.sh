#!/usr/bin/env bash
# Runs the Dockerfile's build steps without Docker: ENV, WORKDIR, COPY (the context minus
# .dockerignore) and RUN, in a temporary root, then starts the built CLI the way the image's
# ENTRYPOINT does. Steps that would change this machine's users (groupadd/useradd/chown) are
# printed and not run. Usage: deploy/docker-build-check.sh [keep-dir]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="${1:-$(mktemp -d)}"
[ -n "${1:-}" ] || trap 'rm -rf "$root"' EXIT
workdir="/"
entrypoint=""

[ "$(head -c 64 "$repo/Dockerfile" | grep -c '')" -gt 0 ] || { echo "docker-build-check: no Dockerfile"; exit 1; }
grep -q '^FROM node:20-slim' "$repo/Dockerfile" || { echo "docker-build-check: Dockerfile must build FROM node:20-slim"; exit 1; }
node -e 'process.exit(process.versions.node.split(".")[0] === "20" ? 0 : 1)' || echo "docker-build-check: note: this Node is $(node -v), the image has Node 20"

# Join continuation lines, drop comments.
steps="$(sed -e 's/^[[:space:]]*#.*$//' "$repo/Dockerfile" | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' | grep -v '^[[:space:]]*$')"

copy_context() { # src dst (dst relative to workdir)
  local src="$1" dst="$2" target
  case "$dst" in /*) target="$root$dst" ;; *) target="$root$workdir/$dst" ;; esac
  if [ "$src" = "." ]; then
    mkdir -p "$target"
    rsync -a --exclude-from="$repo/.dockerignore" "$repo/" "$target/"
  else
    mkdir -p "$target"
    cp -a "$repo/$src" "$target/"
  fi
}

while IFS= read -r line; do
  instr="${line%% *}"; rest="${line#* }"
  case "$instr" in
    FROM|EXPOSE|USER|CMD) echo "docker-build-check: $instr $rest (image metadata)";;
    ENV)
      # KEY=value pairs (no spaces inside values).
      for kv in $rest; do
        export "${kv?}"; echo "docker-build-check: ENV $kv"
      done;;
    WORKDIR) workdir="$rest"; mkdir -p "$root$workdir"; echo "docker-build-check: WORKDIR $workdir";;
    COPY)
      read -r -a parts <<< "$rest"
      dst="${parts[-1]}"; unset 'parts[-1]'
      for src in "${parts[@]}"; do copy_context "$src" "$dst"; done
      echo "docker-build-check: COPY $rest";;
    RUN)
      if grep -Eq '(^| )(groupadd|useradd|chown)( |$)' <<< "$rest"; then
        echo "docker-build-check: RUN not run here (changes this machine's users): $rest"
      else
        echo "docker-build-check: RUN $rest"
        (cd "$root$workdir" && bash -euo pipefail -c "$rest")
      fi;;
    ENTRYPOINT) entrypoint="$rest"; echo "docker-build-check: ENTRYPOINT $rest";;
    *) echo "docker-build-check: unknown instruction $instr"; exit 1;;
  esac
done <<< "$steps"

# The image's entry point, as the pods start it: `node bin/parley.mjs serve --role …` must run.
[ "$entrypoint" = '["node", "bin/parley.mjs"]' ] || { echo "docker-build-check: ENTRYPOINT is $entrypoint, expected [\"node\", \"bin/parley.mjs\"]"; exit 1; }
(cd "$root$workdir" && node bin/parley.mjs serve --help) | grep -q -- '--role' \
  || { echo "docker-build-check: the built tree does not run 'node bin/parley.mjs serve --help'"; exit 1; }
[ ! -d "$root$workdir/node_modules/typescript" ] || { echo "docker-build-check: dev dependencies were installed"; exit 1; }
echo "docker-build-check: ok ($root$workdir)"
