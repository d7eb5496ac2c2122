#!/usr/bin/env bash
# sancheck.sh — the conformance suite under a sanitizer or debug build (make check-ubsan,
# check-asan, check-gcstress build build-VARIANT/ first). The last line is "N passed, N failed".
#
#   ubsan     build-ubsan/sx in the four modes of DESIGN.md "Test modes", and the C-level API
#             tests; -fno-sanitize-recover: the first report aborts, and any report fails.
#   asan      the same under AddressSanitizer, with what Boehm needs (below).
#   gcstress  build-gcstress/sx, SX_DEBUG_GC_STRESS=1: a full collection at every SX allocation,
#             so an object reachable only through a root the collector cannot see (a missing
#             root) is freed at once and its next use fails. Much slower: most of the suite
#             with the native tier off, a part of it forced.
#
# Boehm and ASan. ASan instruments the program's own memory; Boehm manages the SX heap itself:
# - Every SX object comes from Boehm's heap (mmap'd chunks Boehm carves itself), not from
#   malloc, so ASan has no redzones or quarantine there: overflows and use-after-free of SX
#   objects are invisible to it. ASan still checks malloc'd memory (compile snapshots, buffers,
#   the array pool's bookkeeping), stacks and globals. GC stress covers the SX heap instead.
# - detect_stack_use_after_return=0: with it ASan moves locals into "fake stack" frames
#   allocated off the thread stack; Boehm scans the real stack conservatively, so an object
#   held only by such a local would be collected while in use (false crashes).
# - detect_leaks=0: LeakSanitizer neither scans Boehm's heap (malloc'd blocks referenced only
#   from SX objects would be reported as leaks) nor knows which SX objects are garbage.
# - The native tier's code (written by ./sx-jitc) is not instrumented; the runtime helpers and
#   primitives it calls are.
set -u
cd "$(dirname "$0")/../.." || exit 1
v=${1:?usage: sancheck.sh ubsan|asan|gcstress}
bin=build-$v/sx
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=0:abort_on_error=1:print_summary=1
pass=0 fail=0

# suite LABEL CMD...: runs CMD, adds up its "N passed, N failed" line; a sanitizer report or
# a missing result line is a failure
suite() {
  local label=$1 out rc line p f
  shift
  local t0=$SECONDS
  out=$("$@" 2>&1); rc=$?
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
  if printf '%s\n' "$out" | grep -qE 'runtime error:|ERROR: AddressSanitizer|SUMMARY: (Undefined|Address)'; then
    printf '%s\n' "$out" | grep -E -A12 'runtime error:|ERROR: AddressSanitizer' | head -40
    fail=$((fail + 1)); echo "[$v $label] sanitizer report"
  fi
  if [ -z "$line" ]; then
    printf '%s\n' "$out" | tail -5
    fail=$((fail + 1)); echo "[$v $label] no result line (exit $rc)"; return
  fi
  printf '%s\n' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed' | grep -vE '^ok ' | tail -20
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.*, ([0-9]+) failed.*/\1/')
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "[$v $label] exit status $rc"; fi
  echo "[$v $label] $line ($((SECONDS - t0))s)"
  pass=$((pass + p)); fail=$((fail + f))
}

case $v in
  ubsan|asan)
    suite "off" "$bin" --no-jit test spec/tests
    suite "forced" "$bin" --jit-threshold=1 --jit-sync test spec/tests
    suite "churn" "$bin" --jit-threshold=1 --jit-budget=4 test spec/tests
    suite "default" "$bin" test spec/tests
    for t in build-$v/tests/*; do [ -x "$t" ] && suite "$(basename "$t")" "$t"; done
    ;;
  gcstress)
    # the suite without its four long-running files (deep recursion, long loops: minutes each
    # when every allocation collects), then the native tier forced on a smaller part
    subset=""
    for f in spec/tests/*.sx; do
      case $f in */bad-input.sx|*/native.sx|*/recursion.sx|*/tail-calls.sx) ;; *) subset="$subset $f" ;; esac
    done
    # shellcheck disable=SC2086
    suite "off" "$bin" --no-jit test $subset spec/tests/regress
    # shellcheck disable=SC2086
    suite "forced" "$bin" --jit-threshold=1 --jit-sync test spec/tests/closures.sx \
      spec/tests/errors.sx spec/tests/higher-order.sx spec/tests/special-forms.sx spec/tests/regress
    ;;
  *) echo "sancheck.sh: unknown variant $v"; exit 64 ;;
esac
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
