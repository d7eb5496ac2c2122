# SX — one Makefile: `make` builds ./sx, libsx.a and libsx.so; `make test` runs every test;
# `make run` starts the REPL. `make deps` installs the Debian packages SX needs.

CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -fPIC -fvisibility=hidden -Ibuild/gen
PKGS     := bdw-gc
DEB_PKGS := libgc-dev pkg-config gawk libgccjit-12-dev libedit-dev wabt
PEER_PKGS := lua5.4 luajit guile-3.0 chezscheme
LIBS     := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lgc) -lm -lpthread -ldl
CFLAGS   += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

VM_SRC    := $(wildcard vm/*.c)
PRIM_SRC  := $(wildcard prims/*.c)
JITC_SRC  := jit/jitc.c jit/lower.c
JIT_SRC   := $(filter-out $(JITC_SRC),$(wildcard jit/*.c))
LIB_SRC   := $(VM_SRC) $(PRIM_SRC) $(JIT_SRC)
LIB_OBJ   := $(LIB_SRC:%.c=build/%.o)
REPL_OBJ  := $(patsubst %.c,build/%.o,$(wildcard repl/*.c))
EDIT_LIBS := $(shell pkg-config --libs libedit 2>/dev/null || echo -ledit)
GEN       := build/gen/spec.gen.h build/gen/prelude.gen.h
LIB_SX    := lib/prelude.sx lib/jit.sx

.PHONY: all run test deps bench bench-deps clean docs check-docs
# NATIVE=0: no sx-jitc and no libgccjit at all (the native tier is then never available)
NATIVE   ?= 1
JITC_BIN := $(if $(filter 0,$(NATIVE)),,sx-jitc)
PRELUDE_JIT := $(if $(JITC_BIN),build/sx-jit-prelude/.stamp) # the prelude's native code (below)
ifeq ($(NATIVE),0)
DEB_PKGS := $(filter-out libgccjit-12-dev,$(DEB_PKGS))
endif
all: deps-check sx $(JITC_BIN) libsx.a libsx.so $(PRELUDE_JIT)

# ---- Debian packages: checked on every build, installed when missing -------------------------
deps-check:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then $(MAKE) --no-print-directory deps; fi
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "deps: missing packages:$$missing"; echo "run: sudo apt-get install -y$$missing"; exit 1; fi; \
	echo "deps: installing$$missing"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing
bench-deps:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(PEER_PKGS)"

# ---- generated sources --------------------------------------------------------------------
build/gen/spec.gen.h: spec/primitives.sx tools/genspec.awk
	@mkdir -p $(@D)
	awk -v mode=c -f tools/genspec.awk $< > $@.tmp && mv $@.tmp $@
build/gen/prelude.gen.h: $(LIB_SX) tools/embed.awk
	@mkdir -p $(@D)
	awk -f tools/embed.awk $(LIB_SX) > $@.tmp && mv $@.tmp $@

# ---- arrays: WebAssembly kernels (prims/kernels/*.wat) -----------------------------------------
# wat2wasm -> wasm2c -> cc, everything into build/kernels/ (never committed). wabt's runtime is
# built from its source in bounds-check mode (no process-wide SIGSEGV handler, no 8 GiB
# reservation per memory), traps routed to prims/array.c. Generated code gets -ffp-contract=off
# (a fused multiply-add would change wasm float results) and none of our warning flags. Only the
# Z_* names stay global in the combined object, so libsx.a cannot clash with a host's wasm-rt.
WAT2WASM    ?= wat2wasm
WASM2C      ?= wasm2c
WASM_RT_SRC ?= /usr/share/wabt/wasm2c/wasm-rt-impl.c
WASM_CFLAGS := -O2 -g -fPIC -fvisibility=hidden -ffp-contract=off -w \
               -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 -DWASM_RT_USE_STACK_DEPTH_COUNT=0 \
               -DWASM_RT_TRAP_HANDLER=arr_wasm_trap -include prims/kernels/rt_config.h
KERNEL_WAT  := $(wildcard prims/kernels/*.wat)
KERNEL_OBJ  := build/kernels/sx_kernels.o
.PRECIOUS: build/kernels/%.wasm build/kernels/%.c build/kernels/%.h

build/kernels/%.wasm: prims/kernels/%.wat
	@mkdir -p $(@D)
	$(WAT2WASM) $< -o $@
build/kernels/%.c build/kernels/%.h: build/kernels/%.wasm
	$(WASM2C) $< -n sx_$* -o build/kernels/$*.c
build/kernels/%.o: build/kernels/%.c prims/kernels/rt_config.h
	$(CC) $(WASM_CFLAGS) -c $< -o $@
build/kernels/wasm-rt-impl.o: $(WASM_RT_SRC) prims/kernels/rt_config.h
	@mkdir -p $(@D)
	$(CC) $(WASM_CFLAGS) -c $< -o $@
$(KERNEL_OBJ): $(KERNEL_WAT:prims/kernels/%.wat=build/kernels/%.o) build/kernels/wasm-rt-impl.o
	$(LD) -r -o $@.tmp $^
	objcopy --wildcard --keep-global-symbol='Z_*' $@.tmp $@ && rm -f $@.tmp
build/prims/array.o: build/kernels/f64.h prims/kernels/wasm_names.h
build/prims/array.o: CFLAGS += -Ibuild/kernels

.PHONY: stress bench-arrays
stress: sx sx-jitc # the long-run memory tests at full size (make test runs them reduced)
	@./sx tests/stress/arrays.sx full
	@bash tests/stress/jit.sh full
BENCH_ARR := build/bench/arrays
$(BENCH_ARR): bench/arrays/bench.c bench/arrays/cloops.c libsx.a
	@mkdir -p $(@D)
	$(CC) -O2 -g -c bench/arrays/cloops.c -o $(BENCH_ARR)-cloops.o # the plain C baseline
	$(CC) $(CFLAGS) -Ivm -Iprims -Ibuild/kernels -o $@ bench/arrays/bench.c \
	  $(BENCH_ARR)-cloops.o libsx.a $(LIBS)
bench-arrays: sx $(BENCH_ARR) # kernels vs plain C (-O2) vs NumPy, side by side
	@bash bench/arrays/run.sh

# ---- objects and products -------------------------------------------------------------------
build/%.o: %.c $(GEN) $(wildcard vm/*.h prims/*.h jit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

libsx.a: $(LIB_OBJ) $(KERNEL_OBJ)
	rm -f $@
	ar rcs $@ $^
libsx.so: $(LIB_OBJ) $(KERNEL_OBJ)
	$(CC) -shared -Wl,-soname,libsx.so.0 -o $@ $^ $(LIBS)
# the compile server: the only program that links libgccjit (libsx and its hosts never do)
JITC_OBJ := $(JITC_SRC:%.c=build/%.o) build/jit/wire.o
sx-jitc: $(JITC_OBJ)
	$(CC) -o $@ $(JITC_OBJ) -lgccjit
build/jit/server.o: CFLAGS += -DSX_JITC_DEFAULT='"$(CURDIR)/sx-jitc"' \
  -DSX_JIT_PRELUDE_DEFAULT='"$(CURDIR)/build/sx-jit-prelude"'
# the prelude's native code, compiled here once and installed beside sx-jitc (jit/disk.c); the
# build id in every shape hash keeps another build from using it
build/sx-jit-prelude/.stamp: sx $(JITC_BIN) tools/prelude-jit.sx
	@rm -rf $(@D) && mkdir -p build && mkdir -m 700 $(@D)
	SX_JIT_PRELUDE= ./sx --jit-threshold=1 --jit-sync --jit-cache-dir=$(@D) tools/prelude-jit.sx
	@chmod 755 $(@D) && touch $@
# the code generator's identity goes into every shape hash (and so into the on-disk cache's
# file names): objects compiled by another version of the lowering are never loaded
CODEGEN_SRC := jit/lower.c jit/jitc.c jit/rt.c jit/rt.h jit/image.c
CODEGEN_ID  := $(shell cat $(CODEGEN_SRC) 2>/dev/null | cksum | cut -d' ' -f1)
CFLAGS      += -DSX_CODEGEN_ID=$(CODEGEN_ID)u
build/jit/worker.o: $(CODEGEN_SRC)

sx: $(REPL_OBJ) libsx.a
	$(CC) -o $@ $(REPL_OBJ) libsx.a $(LIBS) $(EDIT_LIBS)
# libedit is the sx command's alone: libsx never links it
$(REPL_OBJ): CFLAGS += $(shell pkg-config --cflags libedit 2>/dev/null)
$(REPL_OBJ): $(wildcard repl/*.h)

run: all
	./sx

# ---- tests ------------------------------------------------------------------------------------
TEST_BINS := $(patsubst tests/%.c,build/tests/%,$(wildcard tests/*.c))
build/tests/%: tests/%.c libsx.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ivm -o $@ $< libsx.a $(LIBS)
build/tests/repl_pty: LIBS += -lutil # forkpty

# the embedding API (issue 7): tests/api/*.c and examples/*.c are hosts linked against
# libsx.so, which exports only sx_ names, so they can use nothing but sx.h
API_BINS := $(patsubst tests/api/%.c,build/api/%,$(wildcard tests/api/*.c))
EXAMPLE_BINS := $(patsubst examples/%.c,build/examples/%,$(wildcard examples/*.c))
libsx.so.0: libsx.so
	ln -sf libsx.so $@
build/api/%: tests/api/%.c tests/api/check.h vm/sx.h libsx.so.0
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ivm -o $@ $< -L. -lsx -Wl,-rpath,'$(CURDIR)' $(LIBS)
build/examples/%: examples/%.c vm/sx.h libsx.so.0
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ivm -o $@ $< -L. -lsx -Wl,-rpath,'$(CURDIR)' $(LIBS)

test: all $(TEST_BINS) $(API_BINS) $(EXAMPLE_BINS)
	@bash tests/run.sh

# ---- docs: the primitive reference in README.md is generated from spec/primitives.sx ---------
build/gen/primitives.md: spec/primitives.sx tools/genspec.awk
	@mkdir -p $(@D)
	awk -v mode=md -f tools/genspec.awk $< > $@
docs: build/gen/primitives.md
	@awk -v ref=build/gen/primitives.md -f tools/splice.awk README.md > README.md.tmp && mv README.md.tmp README.md
check-docs: build/gen/primitives.md
	@awk -v ref=build/gen/primitives.md -f tools/splice.awk README.md | cmp -s - README.md || \
	  { echo "README.md primitive reference is out of date: run make docs"; exit 1; }

bench: all # cold (compile time measured), then warm (on-disk JIT cache, like guile's .go files)
	@bash bench/run.sh
	@SX_LABEL=sx-warm BENCH_SX_WARM=1 bash bench/run.sh
	@bash bench/compile_cost.sh

# ---- install: make install [PREFIX=/usr/local] [DESTDIR=staging dir] ---------------------------
# sx, sx-jitc (in libexec/sx/, where sx and jit/server.c look for it), libsx.a, libsx.so with
# its soname, sx.h, sx.pc and sx.1. The installed libraries come from the same objects but for
# jit/server.c, compiled with the installed sx-jitc as the default; and libsx.a is one
# prelinked object whose only global symbols are sx_*, so a static host never clashes with
# SX's internal names (libsx.so exports sx_* only already: -fvisibility=hidden).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
LIBEXECDIR ?= $(PREFIX)/libexec/sx
MANDIR     ?= $(PREFIX)/share/man
VERSION    := $(shell awk '/define SX_VERSION_(MAJOR|MINOR|PATCH) /{v=v s $$3; s="."} END{print v}' vm/sx.h)
INST       ?= build/install
INST_OBJ   := $(filter-out build/jit/server.o,$(LIB_OBJ)) $(INST)/server.o $(KERNEL_OBJ)
.PHONY: install uninstall FORCE
$(INST)/server.o: jit/server.c $(GEN) FORCE
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DSX_JITC_DEFAULT='"$(LIBEXECDIR)/sx-jitc"' \
	  -DSX_JIT_PRELUDE_DEFAULT='"$(LIBEXECDIR)/sx-jit-prelude"' -c $< -o $@
$(INST)/libsx.so: $(INST_OBJ)
	$(CC) -shared -Wl,-soname,libsx.so.0 -o $@ $^ $(LIBS)
$(INST)/libsx.a: $(INST_OBJ)
	$(LD) -r -o $(INST)/libsx.o $^
	objcopy --wildcard --keep-global-symbol='sx_*' $(INST)/libsx.o
	rm -f $@ && ar rcs $@ $(INST)/libsx.o
$(INST)/sx: $(REPL_OBJ) $(INST)/libsx.a
	$(CC) -o $@ $(REPL_OBJ) $(INST)/libsx.a $(LIBS) $(EDIT_LIBS)
$(INST)/sx.pc: sx.pc.in FORCE
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	  -e 's|@VERSION@|$(VERSION)|' $< > $@
install: all $(INST)/libsx.so $(INST)/libsx.a $(INST)/sx $(INST)/sx.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
	  $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(INST)/sx $(DESTDIR)$(BINDIR)/sx
	$(if $(JITC_BIN),install -d $(DESTDIR)$(LIBEXECDIR) && install -m 755 sx-jitc $(DESTDIR)$(LIBEXECDIR)/sx-jitc)
	$(if $(JITC_BIN),install -d -m 755 $(DESTDIR)$(LIBEXECDIR)/sx-jit-prelude && \
	  find build/sx-jit-prelude -name '*.o' -o -name '*.so' -o -name '*.shape' | \
	  xargs -r install -m 644 -t $(DESTDIR)$(LIBEXECDIR)/sx-jit-prelude)
	install -m 644 $(INST)/libsx.a $(DESTDIR)$(LIBDIR)/libsx.a
	install -m 755 $(INST)/libsx.so $(DESTDIR)$(LIBDIR)/libsx.so.$(VERSION)
	ln -sf libsx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsx.so.0
	ln -sf libsx.so.0 $(DESTDIR)$(LIBDIR)/libsx.so
	install -m 644 vm/sx.h $(DESTDIR)$(INCLUDEDIR)/sx.h
	install -m 644 $(INST)/sx.pc $(DESTDIR)$(LIBDIR)/pkgconfig/sx.pc
	install -m 644 sx.1 $(DESTDIR)$(MANDIR)/man1/sx.1
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sx $(DESTDIR)$(LIBEXECDIR)/sx-jitc $(DESTDIR)$(LIBDIR)/libsx.a \
	  $(DESTDIR)$(LIBDIR)/libsx.so $(DESTDIR)$(LIBDIR)/libsx.so.0 \
	  $(DESTDIR)$(LIBDIR)/libsx.so.$(VERSION) $(DESTDIR)$(INCLUDEDIR)/sx.h \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/sx.pc $(DESTDIR)$(MANDIR)/man1/sx.1
	rm -rf $(DESTDIR)$(LIBEXECDIR)/sx-jit-prelude
	-rmdir $(DESTDIR)$(LIBEXECDIR)

clean:
	rm -rf build sx sx-jitc libsx.a libsx.so libsx.so.0

# ---- hardening (issue 8): differential testing, fuzzing, sanitizer builds -----------------------
# make difftest [N=1000] [SEED=s] [SIZE=8] [JOBS=2] [GROWTH=1000]: N random programs from
#   tests/difftest/gen.sx, each in the four test modes and forced with jit-reset! injected
#   (tests/difftest/run.sh: mismatches minimized into spec/tests/regress/), then RSS sampled over
#   GROWTH programs run in one process under churn (tests/difftest/growth.sh; GROWTH=0 skips).
# make fuzz [FUZZ_SECONDS=60]: the libFuzzer targets of tests/fuzz/ (clang, ASan; FUZZ_PKGS are
#   installed when missing), seeded from spec/tests; the regression inputs in tests/fuzz/regress/
#   are replayed first, then each target runs FUZZ_SECONDS; new crashes join tests/fuzz/regress/.
#   build-fuzz/<target>-file is the same target behind a plain main() reading files: the replay
#   tool, and with FUZZ_CC=afl-clang-fast FUZZ_DIR=build-afl FUZZ_INSTR="-fsanitize=address
#   -fsanitize-ignorelist=tests/fuzz/asan-ignore.txt" an AFL++ target (make build-afl/fuzz_eval-file).
# make check-ubsan | check-asan | check-gcstress: the library, sx and the C tests built into
#   build-ubsan/, build-asan/ (clang, for tests/fuzz/asan-ignore.txt), build-gcstress/ (the
#   normal build is untouched; the generated headers, the WASM kernels and ./sx-jitc are shared)
#   and the conformance suite run in them (tests/fuzz/sancheck.sh says what ASan cannot see
#   with Boehm, and what GC stress does instead).
FUZZ_PKGS    := clang libclang-rt-14-dev
FUZZ_CC      ?= clang
FUZZ_DIR     ?= build-fuzz
FUZZ_INSTR   ?= -fsanitize=address,fuzzer-no-link -fsanitize-ignorelist=tests/fuzz/asan-ignore.txt
FUZZ_SECONDS ?= 60
N      ?= 1000
SIZE   ?= 8
JOBS   ?= 2
SEED   ?= $(shell date +%s)
GROWTH ?= 1000
SAN_UBSAN    := -g -fno-omit-frame-pointer -fsanitize=undefined -fno-sanitize-recover=undefined
SAN_ASAN     := -g -fno-omit-frame-pointer -fsanitize=address -fsanitize-ignorelist=tests/fuzz/asan-ignore.txt
SAN_GCSTRESS := -g -DSX_DEBUG_GC_STRESS=1
SAN_TESTS    := compiler image interrupt prim_spec

# SX_VARIANT(dir, cc, flags): dir/libsx.a, dir/sx and dir/tests/* from the normal sources
define SX_VARIANT
$(1)/%.o: %.c $$(GEN) $$(KERNEL_OBJ) $$(wildcard vm/*.h prims/*.h jit/*.h repl/*.h) \
          tests/fuzz/asan-ignore.txt
	@mkdir -p $$(@D)
	$(2) $$(CFLAGS) $(3) -Ibuild/kernels -DSX_JITC_DEFAULT='"$$(CURDIR)/sx-jitc"' \
	  $$(if $$(filter repl/%,$$<),$$(shell pkg-config --cflags libedit 2>/dev/null)) -c $$< -o $$@
$(1)/libsx.a: $$(LIB_SRC:%.c=$(1)/%.o) $$(KERNEL_OBJ)
	rm -f $$@
	ar rcs $$@ $$^
$(1)/sx: $$(patsubst %.c,$(1)/%.o,$$(wildcard repl/*.c)) $(1)/libsx.a
	$(2) $(3) -o $$@ $$^ $$(LIBS) $$(EDIT_LIBS)
$(1)/tests/%: tests/%.c $(1)/libsx.a
	@mkdir -p $$(@D)
	$(2) $$(CFLAGS) $(3) -Ivm -o $$@ $$< $(1)/libsx.a $$(LIBS)
endef
$(eval $(call SX_VARIANT,build-ubsan,$(CC),$(SAN_UBSAN)))
$(eval $(call SX_VARIANT,build-asan,$(FUZZ_CC),$(SAN_ASAN))) # clang: the ignore list
$(eval $(call SX_VARIANT,build-gcstress,$(CC),$(SAN_GCSTRESS)))
$(eval $(call SX_VARIANT,$(FUZZ_DIR),$(FUZZ_CC),$(FUZZ_INSTR)))

.PHONY: difftest fuzz fuzz-deps check-ubsan check-asan check-gcstress
difftest: sx sx-jitc
	@bash tests/difftest/run.sh -n $(N) -s $(SEED) -z $(SIZE) -j $(JOBS) -c build/difftest/jit-cache
	@if [ "$(GROWTH)" != 0 ]; then bash tests/difftest/growth.sh $(GROWTH); fi

check-ubsan: sx sx-jitc build-ubsan/sx $(SAN_TESTS:%=build-ubsan/tests/%)
	@bash tests/fuzz/sancheck.sh ubsan
check-asan: fuzz-deps sx sx-jitc build-asan/sx $(SAN_TESTS:%=build-asan/tests/%)
	@bash tests/fuzz/sancheck.sh asan
check-gcstress: sx sx-jitc build-gcstress/sx
	@bash tests/fuzz/sancheck.sh gcstress

FUZZ_TARGETS := fuzz_read fuzz_eval fuzz_eval_native fuzz_api
fuzz-deps:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(FUZZ_PKGS)"
$(FUZZ_DIR)/fuzz_eval_native: FUZZ_DEFS := -DFUZZ_NATIVE=1
$(FUZZ_DIR)/fuzz_eval_native-file: FUZZ_DEFS := -DFUZZ_NATIVE=1
# fuzz_eval_native is fuzz_eval.c with FUZZ_NATIVE=1
$(FUZZ_DIR)/fuzz_%: $(wildcard tests/fuzz/*.[ch]) $(FUZZ_DIR)/libsx.a
	$(FUZZ_CC) $(CFLAGS) -O1 -g $(FUZZ_DEFS) $(subst fuzzer-no-link,fuzzer,$(FUZZ_INSTR)) -Ivm -o $@ \
	  tests/fuzz/fuzz_$(patsubst %_native,%,$*).c $(FUZZ_DIR)/libsx.a $(LIBS)
$(FUZZ_DIR)/fuzz_%-file: $(wildcard tests/fuzz/*.[ch]) $(FUZZ_DIR)/libsx.a
	$(FUZZ_CC) $(CFLAGS) -O1 -g $(FUZZ_DEFS) $(FUZZ_INSTR) -Ivm -o $@ \
	  tests/fuzz/fuzz_$(patsubst %_native,%,$*).c tests/fuzz/file_main.c $(FUZZ_DIR)/libsx.a $(LIBS)
# C hosts that reproduced what a target found (tests/fuzz/regress/*.c), run under ASan
FUZZ_REGRESS := $(patsubst tests/fuzz/regress/%.c,$(FUZZ_DIR)/regress/%,$(wildcard tests/fuzz/regress/*.c))
$(FUZZ_DIR)/regress/%: tests/fuzz/regress/%.c $(FUZZ_DIR)/libsx.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CFLAGS) -O1 -g $(FUZZ_INSTR) -Ivm -o $@ $< $(FUZZ_DIR)/libsx.a $(LIBS)
fuzz: fuzz-deps sx sx-jitc
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%-file) \
	  $(FUZZ_REGRESS)
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_DIR)
