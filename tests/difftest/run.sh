#!/usr/bin/env bash
# run.sh — differential testing of SX's execution tiers. Random programs from gen.sx run with the
# native tier off (the reference), forced, churning and at defaults (DESIGN.md "Test modes"),
# and once more forced with (jit-reset!) injected at random call sites. Standard output and
# error together, and the exit status, must be byte-identical to the reference. A mismatch is
# minimized (reduce.sx proposes smaller variants; one is kept while it still mismatches in the
# same mode) and saved as a conformance test in spec/tests/regress/ with the reference's values.
#
#   bash tests/difftest/run.sh [OPTIONS]        (any directory; it works from the repo root)
#     -n N         programs (default 100)          -s SEED   first seed (default 1)
#     -j JOBS      programs run at once (default 2) -z SIZE   functions per program (default 8)
#     -t SECONDS   time limit of one run (default 60)
#     -c DIR       on-disk code cache for the forced runs (the forced and reset runs of a program,
#                  and programs sharing helpers, then load instead of compiling; same code)
#     -R           do not minimize mismatches, only report them
#     -k DIR       keep work files (programs, outputs, minimized programs) in DIR
#   bash tests/difftest/run.sh one SEED         one program (the parallel driver calls this)
#   bash tests/difftest/run.sh reduce PROG MODE minimize a program that mismatches in MODE
# The last line is "N passed, N failed". A program whose reference run exceeds the time limit is
# counted as passed with a note (it says nothing about the tiers).
set -u
cd "$(dirname "$0")/../.." || exit 1
SX=${SX:-./sx}

N=${DT_N:-100} SEED=${DT_SEED:-1} JOBS=${DT_JOBS:-2} SIZE=${DT_SIZE:-8} TLIMIT=${DT_TLIMIT:-60}
CACHE=${DT_CACHE:-} REDUCE=${DT_REDUCE:-1} KEEP=${DT_KEEP:-} MIN_TLIMIT=${DT_MIN_TLIMIT:-3}

declare -A FLAGS=(
  [off]="--no-jit"
  [forced]="--jit-threshold=1 --jit-sync"
  [churn]="--jit-threshold=1 --jit-budget=4"
  [default]=""
  [reset]="--jit-threshold=1 --jit-sync"
)

# run MODE PROGRAM OUT: one run; OUT gets stdout and stderr, then a line with the exit status.
run() {
  local flags=${FLAGS[$1]}
  if [ -n "$CACHE" ] && { [ "$1" = forced ] || [ "$1" = reset ]; }; then
    flags="$flags --jit-cache-dir=$CACHE"
  fi
  # shellcheck disable=SC2086
  # (the braces send bash's own "Segmentation fault" notice to /dev/null: the status says it)
  { (ulimit -c 0; ulimit -v 8388608; exec timeout -k 5 "$TLIMIT" "$SX" $flags "$2") > "$3" 2>&1; } 2>/dev/null
  printf '\n[exit %d]\n' $? >> "$3"
}
status() { tail -1 "$1" | sed -E 's/^\[exit ([0-9]+)\]$/\1/'; }

# interesting PROGRAM MODE DIR: true when the program still mismatches in MODE. The reference
# run must finish normally (exit 0): a variant that merely raises an uncaught error shows the
# known difference of backtraces, not the bug being minimized; and it must still print a
# check (the regression test is made of them). It gets a short time limit:
# deleting a loop's exit test makes a variant that never ends. Churn is asynchronous, so a
# churn mismatch gets three tries.
interesting() {
  local prog=$1 mode=$2 d=$3 tries=1
  [ "$mode" = churn ] && tries=3
  TLIMIT=$MIN_TLIMIT run off "$prog" "$d/i.off"
  [ "$(status "$d/i.off")" = 0 ] || return 1
  # keep a check: the conformance test made from the program needs one
  grep -q '^[^[]' "$d/i.off" || return 1
  for ((t = 0; t < tries; t++)); do
    run "$mode" "$prog" "$d/i.$mode"
    cmp -s "$d/i.off" "$d/i.$mode" || return 0
  done
  return 1
}

# minimize PROGRAM MODE DIR: shrinks PROGRAM in place while it stays interesting.
minimize() {
  local prog=$1 mode=$2 d=$3 k changed tries=0
  [ "$mode" = reset ] && mode=forced # the reset variant is minimized as a forced program
  while :; do
    changed=0 k=0
    while "$SX" --no-jit tests/difftest/reduce.sx variant "$prog" "$k" > "$d/cand.sx" 2>/dev/null; do
      tries=$((tries + 1))
      if interesting "$d/cand.sx" "$mode" "$d"; then cp "$d/cand.sx" "$prog"; changed=1
      else k=$((k + 1)); fi
    done
    [ "$changed" = 1 ] || break
  done
  echo "$tries"
}

# one SEED: generate, run in every mode, compare; on a mismatch minimize and save a test.
one() {
  local seed=$1 d mode bad="" st
  d=$(mktemp -d "${TMPDIR:-/tmp}/difftest.XXXXXX")
  "$SX" --no-jit tests/difftest/gen.sx "$seed" plain "$SIZE" > "$d/p.sx" 2> "$d/gen.err" &&
    "$SX" --no-jit tests/difftest/gen.sx "$seed" reset "$SIZE" > "$d/r.sx" 2>> "$d/gen.err" || {
      echo "fail $seed generator: $(head -c 300 "$d/gen.err")"; finish "$d" "$seed"; return; }
  run off "$d/p.sx" "$d/out.off"
  st=$(status "$d/out.off")
  if [ "$st" = 124 ] || [ "$st" = 137 ]; then
    echo "slow $seed (reference run over ${TLIMIT}s)"; finish "$d" "$seed"; return
  fi
  for mode in forced churn default reset; do
    if [ "$mode" = reset ]; then run reset "$d/r.sx" "$d/out.reset"
    else run "$mode" "$d/p.sx" "$d/out.$mode"; fi
    cmp -s "$d/out.off" "$d/out.$mode" || bad="$bad $mode"
  done
  if [ "$st" != 0 ]; then bad="$bad off(exit $st)"; fi
  if [ -z "$bad" ]; then echo "ok $seed"; finish "$d" "$seed"; return; fi
  echo "mismatch $seed:$bad — reproduce: $SX --no-jit tests/difftest/gen.sx $seed plain $SIZE > p.sx;" \
    "minimize into spec/tests/regress/: bash tests/difftest/run.sh -n 1 -s $seed -z $SIZE"
  for mode in $bad; do
    case $mode in off*) continue ;; esac
    diff "$d/out.off" "$d/out.$mode" | head -8 | sed "s/^/  $mode: /"
  done
  if [ "$REDUCE" = 1 ]; then
    mode=${bad# }; mode=${mode%% *}
    case $mode in off*) mode=forced ;; esac
    local src="$d/p.sx"; [ "$mode" = reset ] && src="$d/r.sx"
    cp "$src" "$d/min.sx"
    local tries; tries=$(minimize "$d/min.sx" "$mode" "$d")
    if interesting "$d/min.sx" "$mode" "$d" 2>/dev/null || [ "$mode" = churn ]; then
      run off "$d/min.sx" "$d/min.off"
      local name="difftest-$seed-$mode" file
      file=spec/tests/regress/$name.sx
      mkdir -p spec/tests/regress
      "$SX" --no-jit tests/difftest/reduce.sx regress "$d/min.sx" "$d/min.off" "$name" \
        "seed $seed (size $SIZE) differs in mode $mode" > "$file"
      echo "  minimized in $tries runs to $(grep -c . "$d/min.sx") lines: $file"
      local flags=${FLAGS[$mode]}
      # shellcheck disable=SC2086
      if { "$SX" $flags test "$file" > "$d/regress.out" 2>&1; } 2>/dev/null; then
        echo "  (the conformance test passes in mode $mode: see the minimized program $d/min.sx)"
        KEEP=${KEEP:-$d}
      fi
    else
      echo "  (not reproducible while minimizing: flaky)"
    fi
  fi
  finish "$d" "$seed"
}

# finish DIR SEED: keeps the work files under $KEEP/SEED when asked, else removes them.
finish() {
  if [ -n "$KEEP" ]; then mkdir -p "$KEEP"; rm -rf "${KEEP:?}/$2"; mv "$1" "$KEEP/$2"
  else rm -rf "$1"; fi
}

if [ "${1:-}" = one ]; then one "$2"; exit 0; fi
if [ "${1:-}" = reduce ]; then # reduce PROGRAM MODE: minimize a program found some other way
  d=$(mktemp -d "${TMPDIR:-/tmp}/difftest.XXXXXX")
  cp "$2" "$d/min.sx"
  if ! interesting "$d/min.sx" "$3" "$d"; then echo "run.sh: $2 does not mismatch in mode $3"; exit 1; fi
  echo "minimized in $(minimize "$d/min.sx" "$3" "$d") runs: $d/min.sx"
  cat "$d/min.sx"
  exit 0
fi

while [ $# -gt 0 ]; do
  case $1 in
    -n) N=$2; shift ;; -s) SEED=$2; shift ;; -j) JOBS=$2; shift ;; -z) SIZE=$2; shift ;;
    -t) TLIMIT=$2; shift ;; -c) CACHE=$2; shift ;; -k) KEEP=$2; shift ;; -R) REDUCE=0 ;;
    *) echo "usage: run.sh [-n N] [-s SEED] [-j JOBS] [-z SIZE] [-t SECONDS] [-c DIR] [-R] [-k DIR]"
       exit 64 ;;
  esac
  shift
done
[ -x "$SX" ] || { echo "run.sh: $SX not built"; exit 1; }
# The code cache's file names cover the shape and libsx's build, not sx-jitc's lowering (jit/
# lower.c can change while jit/worker.c, which makes the build id, does not): keep one cache per
# pair of binaries, and drop the caches of earlier pairs (they are this script's own).
if [ -n "$CACHE" ]; then
  key=$(cat "$SX" sx-jitc 2>/dev/null | cksum | cut -d' ' -f1)
  mkdir -p "$CACHE"
  for old in "$CACHE"/*; do [ "$old" = "$CACHE/$key" ] || rm -rf "$old"; done
  CACHE=$CACHE/$key
fi
export DT_SIZE=$SIZE DT_TLIMIT=$TLIMIT DT_CACHE=$CACHE DT_REDUCE=$REDUCE DT_KEEP=$KEEP SX

echo "difftest: $N programs from seed $SEED, size $SIZE, $JOBS at a time"
start=$(date +%s)
pass=0 fail=0 slow=0 done_=0
while IFS= read -r line; do
  case $line in
    ok\ *) pass=$((pass + 1)) ;;
    slow\ *) pass=$((pass + 1)) slow=$((slow + 1)); echo "$line" ;;
    mismatch\ *|fail\ *) fail=$((fail + 1)); echo "$line" ;;
    *) echo "$line"; continue ;;
  esac
  done_=$((done_ + 1))
  if [ $((done_ % 1000)) = 0 ]; then
    echo "difftest: $done_ programs, $fail failed, $(( $(date +%s) - start ))s"
  fi
done < <(seq "$SEED" $((SEED + N - 1)) | xargs -P "$JOBS" -I{} bash tests/difftest/run.sh one {})
echo "difftest: $done_ programs ($slow over the time limit in the reference run) in $(( $(date +%s) - start ))s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
