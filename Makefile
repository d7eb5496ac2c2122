# SX — one Makefile: `make` builds ./sx, libsx.a and libsx.so; `make test` runs every test;
# `make run` starts the REPL. `make deps` installs the Debian packages SX needs.

CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -fPIC -fvisibility=hidden -Ibuild/gen
PKGS     := bdw-gc
DEB_PKGS := libgc-dev pkg-config gawk libgccjit-12-dev libedit-dev
PEER_PKGS := lua5.4 luajit guile-3.0 chezscheme
LIBS     := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lgc) -lgccjit -lm -lpthread -ldl
CFLAGS   += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

VM_SRC    := $(wildcard vm/*.c)
PRIM_SRC  := $(wildcard prims/*.c)
JIT_SRC   := $(wildcard jit/*.c)
LIB_SRC   := $(VM_SRC) $(PRIM_SRC) $(JIT_SRC)
LIB_OBJ   := $(LIB_SRC:%.c=build/%.o)
REPL_OBJ  := $(patsubst %.c,build/%.o,$(wildcard repl/*.c))
EDIT_LIBS := $(shell pkg-config --libs libedit 2>/dev/null || echo -ledit)
GEN       := build/gen/spec.gen.h build/gen/prelude.gen.h
LIB_SX    := lib/prelude.sx lib/jit.sx

.PHONY: all run test deps bench bench-deps clean docs check-docs
all: deps-check sx libsx.a libsx.so

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

# ---- objects and products -------------------------------------------------------------------
build/%.o: %.c $(GEN) $(wildcard vm/*.h prims/*.h jit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

libsx.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^
libsx.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libsx.so.0 -o $@ $^ $(LIBS)
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

test: all $(TEST_BINS)
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

bench: all
	@bash bench/run.sh

clean:
	rm -rf build sx libsx.a libsx.so
