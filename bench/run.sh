#!/usr/bin/env bash
# SX benchmark runner: times each program in SX and in every installed peer system.
#
#   bench/run.sh [PROGRAM...]        run all programs, or only the named ones
#   bench/run.sh --list              list the programs
#
# Environment:
#   SX=path          sx binary (default: <repo>/sx)
#   SX_FLAGS="..."   extra flags for sx, e.g. --no-jit (word-split)
#   SX_LABEL=name    label of the SX column (default: sx)
#   BENCH_RUNS=R     runs per program and system; the best is kept (default 3)
#   BENCH_TIMEOUT=s  time limit of one run in seconds (default 600)
#   BENCH_STARTUP_RUNS=n  runs of the empty program per system; the fastest is used (default 5)
#   BENCH_PEERS="lua5.4 luajit guile chez"   peers to run (default: all installed)
#   BENCH_TSV=file   also write the results as tab-separated values to file
#   BENCH_SX_WARM=1  SX with a private on-disk JIT cache (--jit-cache-dir), each program run once
#                    beforehand: compile time is then not measured, as for guile's .go cache
#   SX_JIT_PRELUDE=  (empty) the prelude's lambdas compiled at run time too, not loaded from the
#                    code the build compiled (build/sx-jit-prelude, as guile's compiled ice-9)
#   LUA54, LUAJIT, GUILE, CHEZ   peer commands (default lua5.4, luajit, guile, scheme)
#
# Time of a run = wall clock of the whole process minus that system's start-up time (the fastest of
# 5 runs of an empty program, started the same way: the same estimator as a program's best run).
# Ratio = SX time / peer time per program; the last row is the geometric mean of each ratio column
# over the programs where both ran correctly.

set -u
export LC_ALL=C
unset GUILE_AUTO_COMPILE            # guile must auto-compile (its compiled code is what we time)

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
SX=${SX:-$ROOT/sx}
SX_FLAGS=${SX_FLAGS:-}
SX_LABEL=${SX_LABEL:-sx}
RUNS=${BENCH_RUNS:-3}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-5}
TIMEOUT=${BENCH_TIMEOUT:-600}
LUA54=${LUA54:-lua5.4}
LUAJIT=${LUAJIT:-luajit}
GUILE=${GUILE:-guile}
CHEZ=${CHEZ:-scheme}

ALL=(fib tak cpstak ack nqueens primes sum sumfp deriv mbrot strbuild dicts)
declare -A EXPECT=(
  [fib]=832040 [tak]=7 [cpstak]=7 [ack]=4093 [nqueens]=92 [primes]=78498
  [sum]=1249999975000000 [sumfp]=199999990000000 [deriv]=43 [mbrot]=1173678
  [strbuild]=22888890 [dicts]=20099813774
)

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

PROGS=()
for a in "$@"; do
  case $a in
    -h|--help) usage; exit 0 ;;
    --list) printf '%s\n' "${ALL[@]}"; exit 0 ;;
    -*) echo "run.sh: unknown option $a" >&2; exit 2 ;;
    *) if [[ -z ${EXPECT[$a]+x} ]]; then
         echo "run.sh: unknown program '$a' (known: ${ALL[*]})" >&2; exit 2
       fi
       PROGS+=("$a") ;;
  esac
done
(( ${#PROGS[@]} )) || PROGS=("${ALL[@]}")
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: BENCH_RUNS must be a positive integer" >&2; exit 2; }
[[ $STARTUP_RUNS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: BENCH_STARTUP_RUNS must be a positive integer" >&2; exit 2; }

note() { echo "$*" >&2; }

# ---- systems ---------------------------------------------------------------------------------
# For each system: a label, a file extension, and a command prefix (the program file is appended).
SYS=()                      # system ids in column order
declare -A LABEL EXT
declare -A PREFIX           # command prefix, as a string of words (paths must not contain spaces)

if [[ -x $SX ]]; then
  SYS+=(sx); LABEL[sx]=$SX_LABEL; EXT[sx]=sx; PREFIX[sx]="$SX $SX_FLAGS"
  HAVE_SX=1
else
  note "note: no sx binary at $SX (set SX=path); SX column skipped, peers only"
  HAVE_SX=0
fi

want_peer() { [[ -z ${BENCH_PEERS+x} ]] || [[ " $BENCH_PEERS " == *" $1 "* ]]; }

add_peer() {  # id label ext command args...
  local id=$1 label=$2 ext=$3; shift 3
  want_peer "$label" || return 0
  if ! command -v "$1" >/dev/null 2>&1; then note "note: $label not installed ($1), skipped"; return 0; fi
  SYS+=("$id"); LABEL[$id]=$label; EXT[$id]=$ext; PREFIX[$id]="$*"
}
add_peer lua54  lua5.4 lua "$LUA54"
add_peer luajit luajit lua "$LUAJIT"
add_peer guile  guile  scm "$GUILE" -q
if want_peer chez && command -v "$CHEZ" >/dev/null 2>&1 \
   && ! "$CHEZ" --version 2>&1 | grep -Eq '^[0-9]+\.[0-9]+'; then
  note "note: '$CHEZ' is not Chez Scheme, chez skipped (set CHEZ=path)"
else
  add_peer chez chez ss "$CHEZ" --optimize-level 2 --program
fi
PEERS=(); for s in "${SYS[@]}"; do [[ $s == sx ]] || PEERS+=("$s"); done
WARM=0
if [[ ${BENCH_SX_WARM:-0} == 1 && $HAVE_SX == 1 ]]; then
  WARM=1; WARM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sxbench-cache.XXXXXX")
  PREFIX[sx]+=" --jit-cache-dir=$WARM_DIR/cache"
fi
prewarm() { [[ $1 == guile ]] || [[ $1 == sx && $WARM == 1 ]]; }

# ---- timing ----------------------------------------------------------------------------------
ERRF=$(mktemp "${TMPDIR:-/tmp}/sxbench.XXXXXX")
trap 'rm -f "$ERRF"' EXIT
have_timeout=0; command -v timeout >/dev/null 2>&1 && have_timeout=1

now_us() {  # microseconds since the epoch, in NOW
  if [[ -n ${EPOCHREALTIME:-} ]]; then NOW=${EPOCHREALTIME//[.,]/}
  else NOW=$(( $(date +%s%N) / 1000 )); fi
}

# run_once SYS FILE -> OUT, RC, US (wall-clock microseconds)
run_once() {
  local -a cmd
  read -r -a cmd <<< "${PREFIX[$1]}"
  cmd+=("$2")
  (( have_timeout )) && cmd=(timeout "$TIMEOUT" "${cmd[@]}")
  local t0 t1
  now_us; t0=$NOW
  OUT=$("${cmd[@]}" 2>"$ERRF" </dev/null)
  RC=$?
  now_us; t1=$NOW
  US=$(( t1 - t0 ))
  OUT=${OUT%%$'\n'}; OUT=${OUT%"${OUT##*[![:space:]]}"}
}

secs() {  # microseconds -> seconds with 3 decimals
  local us=$1; (( us < 0 )) && us=0
  printf '%d.%03d' $(( us / 1000000 )) $(( (us % 1000000 + 500) / 1000 ))
}

# The program file of system s: Chez runs the Guile source with an import line put in front,
# unless a NAME.ss of its own exists (where the two Schemes' libraries differ).
CHEZ_TMP=$(mktemp -d)
trap 'rm -rf "$CHEZ_TMP" "$ERRF" ${WARM_DIR:+"$WARM_DIR"}' EXIT
program_file() {  # program system -> path
  local f=$BENCH_DIR/$1.${EXT[$2]}
  if [[ $2 == chez && ! -f $f && -f $BENCH_DIR/$1.scm ]]; then
    f=$CHEZ_TMP/$1.ss
    [[ -f $f ]] || { echo '(import (chezscheme))'; cat "$BENCH_DIR/$1.scm"; } > "$f"
  fi
  echo "$f"
}

# start-up time per system: the fastest run of an empty program (best of R is what programs get)
declare -A STARTUP
for s in "${SYS[@]}"; do
  f=$(program_file empty "$s")
  [[ $s == guile ]] && run_once "$s" "$f"          # populate guile's compile cache
  ts=()
  for ((i = 0; i < STARTUP_RUNS; i++)); do
    run_once "$s" "$f"
    if (( RC != 0 )); then note "warning: ${LABEL[$s]} failed on an empty program: $(head -c 300 "$ERRF")"; fi
    ts+=("$US")
  done
  STARTUP[$s]=$(printf '%s\n' "${ts[@]}" | sort -n | head -1)
  note "start-up ${LABEL[$s]}: $(secs "${STARTUP[$s]}") s"
done

# ---- run the programs ------------------------------------------------------------------------
declare -A RES      # RES[prog,sys] = net microseconds, or FAIL / TIMEOUT / n/a
declare -A GOT      # GOT[prog,sys] = printed check value
declare -A BAD      # BAD[prog,sys] = 1 when the check value is wrong
PROBLEMS=()

for p in "${PROGS[@]}"; do
  line="$p:"
  for s in "${SYS[@]}"; do
    f=$(program_file "$p" "$s")
    if [[ ! -f $f ]]; then RES[$p,$s]=n/a; line+=" ${LABEL[$s]} n/a"; continue; fi
    prewarm "$s" && run_once "$s" "$f"             # compile once so compile time is not measured
    best=-1; status=ok
    for ((r = 0; r < RUNS; r++)); do
      run_once "$s" "$f"
      if (( RC == 124 && have_timeout )); then status=TIMEOUT; break; fi
      if (( RC != 0 )); then
        status=FAIL
        PROBLEMS+=("$p/${LABEL[$s]}: exit $RC: $(tail -c 400 "$ERRF" | tr '\n' ' ')")
        break
      fi
      GOT[$p,$s]=$OUT
      if [[ $OUT != "${EXPECT[$p]}" ]]; then BAD[$p,$s]=1; fi
      (( best < 0 || US < best )) && best=$US
    done
    if [[ $status != ok ]]; then
      RES[$p,$s]=$status; line+=" ${LABEL[$s]} $status"
      [[ $status == TIMEOUT ]] && PROBLEMS+=("$p/${LABEL[$s]}: timed out after ${TIMEOUT}s")
      continue
    fi
    net=$(( best - STARTUP[$s] )); (( net < 0 )) && net=0
    RES[$p,$s]=$net
    line+=" ${LABEL[$s]} $(secs "$net")"
    if [[ -n ${BAD[$p,$s]+x} ]]; then
      line+="(WRONG)"
      PROBLEMS+=("$p/${LABEL[$s]}: CHECK MISMATCH: printed '${GOT[$p,$s]}', expected '${EXPECT[$p]}'")
    fi
  done
  # do the systems that finished agree with each other?
  vals=$(for s in "${SYS[@]}"; do [[ -n ${GOT[$p,$s]+x} ]] && printf '%s\n' "${GOT[$p,$s]}"; done | sort -u | wc -l)
  (( vals > 1 )) && PROBLEMS+=("$p: systems DISAGREE on the check value")
  note "$line"
done

# ---- table -----------------------------------------------------------------------------------
cell() {  # prog sys -> printable time cell
  local v=${RES[$1,$2]:-n/a}
  if [[ $v =~ ^[0-9]+$ ]]; then
    v=$(secs "$v"); [[ -n ${BAD[$1,$2]+x} ]] && v="$v!"
  fi
  printf '%s' "$v"
}
ok_time() { [[ ${RES[$1,$2]:-} =~ ^[0-9]+$ && -z ${BAD[$1,$2]+x} ]]; }

W=9
hdr=$(printf '%-10s' program)
for s in "${SYS[@]}"; do hdr+=$(printf " %${W}s" "${LABEL[$s]}"); done
if (( HAVE_SX )); then for s in "${PEERS[@]}"; do hdr+=$(printf " %${W}s" "/${LABEL[$s]}"); done; fi
echo
echo "times in seconds (best of $RUNS, start-up subtracted); ratio columns = ${SX_LABEL} time / peer time"
[[ -n $SX_FLAGS ]] && (( HAVE_SX )) && echo "sx: $SX $SX_FLAGS"
echo "$hdr"
declare -A LOGSUM NLOG
tsv=$(printf 'program'; for s in "${SYS[@]}"; do printf '\t%s' "${LABEL[$s]}"; done; echo)
for p in "${PROGS[@]}"; do
  row=$(printf '%-10s' "$p")
  trow=$p
  for s in "${SYS[@]}"; do
    row+=$(printf " %${W}s" "$(cell "$p" "$s")")
    trow+=$'\t'$(cell "$p" "$s")
  done
  if (( HAVE_SX )); then
    for s in "${PEERS[@]}"; do
      if ok_time "$p" sx && ok_time "$p" "$s"; then
        # clamp to 1 ms so a near-zero time cannot give 0 or infinity
        r=$(awk -v a="${RES[$p,sx]}" -v b="${RES[$p,$s]}" 'BEGIN{ if (a<1000) a=1000; if (b<1000) b=1000; printf "%.3f", a/b }')
        LOGSUM[$s]=$(awk -v l="${LOGSUM[$s]:-0}" -v r="$r" 'BEGIN{ printf "%.12f", l + log(r) }')
        NLOG[$s]=$(( ${NLOG[$s]:-0} + 1 ))
        row+=$(printf " %${W}s" "$r")
      else
        row+=$(printf " %${W}s" -)
      fi
    done
  fi
  echo "$row"
  tsv+=$'\n'$trow
done
if (( HAVE_SX )) && (( ${#PEERS[@]} )); then
  row=$(printf '%-10s' geomean)
  for s in "${SYS[@]}"; do row+=$(printf " %${W}s" ""); done
  for s in "${PEERS[@]}"; do
    if (( ${NLOG[$s]:-0} > 0 )); then
      row+=$(printf " %${W}s" "$(awk -v l="${LOGSUM[$s]}" -v n="${NLOG[$s]}" 'BEGIN{ printf "%.3f", exp(l/n) }')")
    else
      row+=$(printf " %${W}s" -)
    fi
  done
  echo "$row"
fi
[[ -n ${BENCH_TSV:-} ]] && printf '%s\n' "$tsv" > "$BENCH_TSV"

if (( ${#PROBLEMS[@]} )); then
  echo
  echo "PROBLEMS (a '!' after a time marks a wrong check value; such runs are left out of the ratios):"
  printf '  %s\n' "${PROBLEMS[@]}"
  exit 1
fi
exit 0
