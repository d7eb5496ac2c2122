#!/usr/bin/env bash
# install.sh — `make install` into a temporary PREFIX, then checks what a user of the installed
# files sees: the layout, the soname and its links, only sx_ symbols exported (libsx.so) or
# global (libsx.a), sx.pc, the man page, the installed sx (which finds its sx-jitc), and a host
# compiled with nothing but `pkg-config --cflags --libs sx` (shared) and against libsx.a
# (static), both running native code. A DESTDIR install is checked for its file list too.
cd "$(dirname "$0")/../.."
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "install: FAIL $*"; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok; else bad "$what"; fi; }

tmp=$(mktemp -d /tmp/sx-install-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
# INST: the installed libraries are linked in a directory of this run's own, so that two runs
# at once (two engineers' make test in one tree) cannot mix their prefixes
if ! make -s install PREFIX="$prefix" INST="$tmp/build" >"$tmp/make.log" 2>&1; then
  tail -20 "$tmp/make.log"; echo "0 passed, 1 failed"; exit 1
fi
version=$(awk '/define SX_VERSION_(MAJOR|MINOR|PATCH) /{v=v s $3; s="."} END{print v}' vm/sx.h)
lib=$prefix/lib

for f in bin/sx libexec/sx/sx-jitc lib/libsx.a "lib/libsx.so.$version" include/sx.h \
         lib/pkgconfig/sx.pc share/man/man1/sx.1; do
  check "installed $f" test -f "$prefix/$f"
done
check "libsx.so -> libsx.so.0" test "$(readlink "$lib/libsx.so")" = libsx.so.0
check "libsx.so.0 -> libsx.so.$version" test "$(readlink "$lib/libsx.so.0")" = "libsx.so.$version"
soname=$(readelf -d "$lib/libsx.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "soname libsx.so.0 ($soname)" test "$soname" = libsx.so.0
# exported: sx_ names only (and the linker's own markers)
others=$(nm -D --defined-only "$lib/libsx.so.$version" | awk '{print $3}' |
         grep -v -E '^(sx_|_end$|_edata$|__bss_start$|_init$|_fini$)')
check "libsx.so exports only sx_* (others: $others)" test -z "$others"
nexp=$(nm -D --defined-only "$lib/libsx.so.$version" | grep -c ' T sx_')
check "libsx.so exports the API ($nexp functions)" test "$nexp" -gt 60
others=$(nm -g --defined-only "$lib/libsx.a" | awk 'NF==3{print $3}' | grep -v '^sx_' | head -5)
check "libsx.a has only sx_* globals (others: $others)" test -z "$others"
check "libsx.so does not link libgccjit" bash -c "! readelf -d '$lib/libsx.so.$version' | grep -q gccjit"
check "sx does not link libgccjit" bash -c "! readelf -d '$prefix/bin/sx' | grep -q gccjit"
check "sx-jitc links libgccjit" bash -c "readelf -d '$prefix/libexec/sx/sx-jitc' | grep -q gccjit"

export PKG_CONFIG_PATH=$lib/pkgconfig
check "pkg-config --modversion sx" test "$(pkg-config --modversion sx)" = "$version"
check "pkg-config --cflags" test "$(echo $(pkg-config --cflags sx))" = "-I$prefix/include"
check "man page renders" bash -c "man -l '$prefix/share/man/man1/sx.1' 2>/dev/null | grep -q 'embeddable'"

# the installed command, away from the build tree: finds ../libexec/sx/sx-jitc on its own
out=$(cd "$tmp" && env -u SX_JITC "$prefix/bin/sx" --jit-threshold=1 --jit-sync \
      -e '(define (f x) (* x 2)) (list (f 21) (jit-compiled? f))' 2>&1)
check "installed sx runs native code ($out)" test "$out" = "(42 true)"
# ... and loads the prelude's code from ../libexec/sx/sx-jit-prelude instead of compiling it
out=$(cd "$tmp" && env -u SX_JITC -u SX_JIT_PRELUDE "$prefix/bin/sx" --jit-threshold=1 --jit-sync \
      -e '(map (fn (x) x) (list 1 2)) (list (jit-compiled? map) (> (get (jit-stats) :disk-hits) 0))' 2>&1)
check "installed sx loads the installed prelude code ($out)" test "$out" = "(true true)"
check "installed sx --version" bash -c "'$prefix/bin/sx' --version | grep -q '$version'"

# a host built with pkg-config alone, shared; and one against libsx.a
if cc -std=c11 -Wall -Wextra -o "$tmp/host" tests/api/install/host.c $(pkg-config --cflags --libs sx) \
      -Wl,-rpath,"$(pkg-config --variable=libdir sx)" 2>"$tmp/cc.log"; then
  ok
  out=$(cd "$tmp" && env -u SX_JITC ./host 2>&1)
  check "pkg-config host runs ($out)" test "$(echo "$out" | tail -1)" = "2 passed, 0 failed"
  check "the host uses the installed libsx.so" bash -c "ldd '$tmp/host' | grep -q '$lib/libsx.so.0'"
else
  bad "pkg-config host compiles: $(head -5 "$tmp/cc.log")"
fi
if cc -std=c11 -o "$tmp/host-static" tests/api/install/host.c $(pkg-config --cflags sx) \
      "$lib/libsx.a" $(pkg-config --static --libs-only-other --libs-only-l sx | sed 's/-lsx//') \
      2>"$tmp/cc.log"; then
  ok
  out=$(cd "$tmp" && env -u SX_JITC ./host-static 2>&1)
  check "static host runs ($out)" test "$(echo "$out" | tail -1)" = "2 passed, 0 failed"
else
  bad "static host compiles: $(head -5 "$tmp/cc.log")"
fi

# DESTDIR: everything under it, nothing outside
stage=$tmp/stage
if make -s install DESTDIR="$stage" PREFIX=/opt/sx INST="$tmp/build2" >"$tmp/make2.log" 2>&1; then
  n=$(cd "$stage" && find . \( -type f -o -type l \) -not -path '*/sx-jit-prelude/*' | wc -l)
  check "DESTDIR install: 9 files and links under \$DESTDIR/opt/sx ($n)" test "$n" -eq 9
  np=$(ls "$stage/opt/sx/libexec/sx/sx-jit-prelude" 2>/dev/null | wc -l)
  check "DESTDIR install: the prelude's code ($np files)" test "$np" -gt 10
  check "DESTDIR sx.pc names the final prefix" grep -q '^prefix=/opt/sx$' "$stage/opt/sx/lib/pkgconfig/sx.pc"
  check "nothing installed outside DESTDIR" test ! -e /opt/sx/bin/sx
else
  bad "make install DESTDIR: $(tail -5 "$tmp/make2.log")"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
