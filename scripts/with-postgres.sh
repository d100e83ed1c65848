#!/usr/bin/env bash
# Run a command with TEST_DATABASE_URL pointing at a throwaway PostgreSQL server.
#   scripts/with-postgres.sh .venv/bin/python -m pytest -m postgres
# Uses $TEST_DATABASE_URL as it is when set. Otherwise starts a private cluster in a temporary folder
# (installing Debian's postgresql first when missing and running as root), and removes it afterwards.
# Exits 0 with a notice, running nothing, when no server can be had (not root and none installed).
set -euo pipefail

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
PGBIN=$(find_bin)
if [ -z "$PGBIN" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's postgresql for the PostgreSQL tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PGBIN=$(find_bin)
  else
    echo "PostgreSQL is not installed and we are not root: skipping the PostgreSQL tests."
    exit 0
  fi
fi

WORK=$(mktemp -d /tmp/vibenvr-pg.XXXXXX)
# A free port on 127.0.0.1, unless one is given (another server may hold any fixed one).
PORT=${VIBENVR_TEST_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
RUNAS=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$WORK"
  RUNAS=(runuser -u postgres --)
fi
cleanup() {
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$WORK/db" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${RUNAS[@]}" "$PGBIN/initdb" -D "$WORK/db" -U vibenvr --auth=trust -E UTF8 >/dev/null
if ! "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$WORK/db" -l "$WORK/log" -w \
  -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >/dev/null; then
  echo "PostgreSQL did not start; its log:" >&2
  cat "$WORK/log" >&2
  exit 1
fi
"${RUNAS[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U vibenvr vibenvr_test

export TEST_DATABASE_URL="postgresql://vibenvr@127.0.0.1:$PORT/vibenvr_test"
echo "PostgreSQL test server at $TEST_DATABASE_URL"
"$@"
