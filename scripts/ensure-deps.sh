#!/usr/bin/env bash
# Installs what a fresh checkout lacks: node modules (npm ci when the lock file changed since the last
# install) and the generated Prisma client. Safe to run repeatedly; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.modelsmith-install-stamp
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  echo "[modelsmith] installing dependencies (npm ci)…"
  npm ci --no-audit --no-fund
  echo "$lock_sum" > "$stamp"
fi
schema_sum=$(cat prisma/schema.prisma package-lock.json | sha256sum | cut -d' ' -f1)
gen_stamp=libs/db/src/generated/.schema-stamp
if [ ! -f "$gen_stamp" ] || [ "$(cat "$gen_stamp")" != "$schema_sum" ]; then
  echo "[modelsmith] generating the Prisma client…"
  node scripts/prisma-generate.js >/dev/null
  echo "$schema_sum" > "$gen_stamp"
fi
bash scripts/build-native.sh
