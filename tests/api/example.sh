#!/usr/bin/env bash
# example.sh — runs examples/plugin-host on every plugin in examples/plugins/ and compares its
# report with examples/plugins/expected.out (the version line aside).
cd "$(dirname "$0")/../.."
out=$(build/examples/plugin-host examples/plugins/*.sx 2>&1 | sed '1s/on SX .*/on SX VERSION/')
if [ "$out" = "$(cat examples/plugins/expected.out)" ]; then
  echo "1 passed, 0 failed"
else
  diff <(printf '%s\n' "$out") examples/plugins/expected.out | head -20
  echo "0 passed, 1 failed"
  exit 1
fi
