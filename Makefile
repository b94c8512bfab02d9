# dwell: Lua 5.4 module with a C core. `make` builds, `make test` runs the specs,
# `make demo` runs the example automation against the local sandbox.
LUA        ?= lua5.4
CC         ?= cc
OPT        ?= -O2
WERROR     ?= -Werror
CFLAGS_ALL  = -std=c99 $(OPT) -g -Wall -Wextra $(WERROR) -fPIC -D_POSIX_C_SOURCE=200809L $(CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL = -shared $(LDFLAGS) $(EXTRA_LDFLAGS)
BUILD      := build

# Where the headers and libraries come from: pkg-config by default; the
# rockspec passes LuaRocks' LUA_INCDIR / CURL_* / OPENSSL_* / LIBMICROHTTPD_* / HIREDIS_*
# instead. Modules never link liblua: the interpreter (or host app) provides it.
CORE_CFLAGS ?= $(shell pkg-config --cflags lua5.4 libcurl libcrypto)
CORE_LIBS   ?= $(shell pkg-config --libs libcurl libcrypto)
SB_CFLAGS   ?= $(shell pkg-config --cflags lua5.4 libmicrohttpd)
SB_LIBS     ?= $(shell pkg-config --libs libmicrohttpd) -lpthread
REDIS_CFLAGS ?= $(shell pkg-config --cflags lua5.4 hiredis)
REDIS_LIBS   ?= $(shell pkg-config --libs hiredis)

# Lua libraries dwell uses only when asked, detected at run time and never linked:
# dwell.loop.luv needs luv (Debian lua-luv), dwell.loop.cqueues needs cqueues
# (lua-cqueues). scripts/bootstrap installs both, for the specs and examples.
LOOP_LUA_MODULES := luv cqueues

# `make install` (used by the rockspec) copies the modules into these trees.
INST_LIBDIR ?= /usr/local/lib/lua/5.4
INST_LUADIR ?= /usr/local/share/lua/5.4
# ... and the commands (bin/dwell, bin/dwell-sandbox) into INST_BINDIR; the rockspec sets it
# empty, since LuaRocks installs them itself (install.bin).
INST_BINDIR ?= /usr/local/bin

# Every C file belongs to the core except the sandbox server's and the Redis
# client's, which live in modules of their own so that dwell.core never depends
# on libmicrohttpd or libhiredis.
SB_SRC     := $(wildcard src/sandbox*.c)
REDIS_SRC  := $(wildcard src/redis*.c)
CORE_SRC   := $(filter-out $(SB_SRC) $(REDIS_SRC),$(wildcard src/*.c))
CORE_OBJ   := $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
SB_OBJ     := $(SB_SRC:src/%.c=$(BUILD)/obj/%.o)
REDIS_OBJ  := $(REDIS_SRC:src/%.c=$(BUILD)/obj/%.o)
CORE_SO    := $(BUILD)/dwell/core.so
SB_SO      := $(BUILD)/dwell/sandbox/server.so
REDIS_SO   := $(BUILD)/dwell/store/redis_client.so

export LUA_PATH  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;
export LUA_CPATH := $(CURDIR)/$(BUILD)/?.so;;


.PHONY: clean-build all modules install bootstrap test check-loops lint docs reference embed-demo asan valgrind demo clean install-check bench bench-crypto bench-json bench-json-count bench-call-count bench-each-count bench-http bench-parallel bench-wire bench-paging bench-store bench-loop fuzz sandbox host-example

# bootstrap first, then the build, even under make -j.
all: bootstrap
	@$(MAKE) --no-print-directory modules host-example

# The compiled modules alone, without the bootstrap check (used by asan and rockspec builds).
modules: $(CORE_SO) $(if $(SB_SRC),$(SB_SO)) $(if $(REDIS_SRC),$(REDIS_SO))
	@:

# A C program that embeds Lua and loads dwell as an ordinary module (examples/embed/).
HOST_EXAMPLE := $(BUILD)/examples/dwell-host
# A phony goal in front of it: as a file goal, make says "is up to date" on every `make`.
host-example: $(HOST_EXAMPLE)
	@:
$(HOST_EXAMPLE): examples/embed/host.c
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror $(shell pkg-config --cflags lua5.4) $< -o $@ $(shell pkg-config --libs lua5.4) -lm -ldl

bootstrap:
	@scripts/bootstrap

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(if $(filter sandbox%,$*),$(SB_CFLAGS),$(if $(filter redis%,$*),$(REDIS_CFLAGS),$(CORE_CFLAGS))) -c $< -o $@

$(CORE_SO): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CORE_LIBS)

$(SB_SO): $(SB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(SB_LIBS)

$(REDIS_SO): $(REDIS_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(REDIS_LIBS)

test: all
	@scripts/run-specs $(SPECS)

# Whether the optional event-loop libraries load (the dwell.loop specs need them).
check-loops: all
	@for m in $(LOOP_LUA_MODULES); do $(LUA) -e "require '$$m'" && echo "$$m: loads" || exit 1; done

# The -Werror build (`all`) is the C lint; luacheck covers the Lua trees that exist.
lint: all
	luacheck $(wildcard lua spec examples bench bin) $(wildcard bin/dwell bin/dwell-sandbox)

# AddressSanitizer + UBSan. lua5.4 itself is not instrumented, so the modules
# are built with -fsanitize into their own tree (build/asan, never mixed with
# the normal build) and the specs run under build/asan/bin/lua5.4, a minimal
# interpreter (scripts/asan-lua.c) linked with the sanitizer runtimes and put
# first in PATH. No LD_PRELOAD: it would leak into curl/openssl children, which
# can hang under it. See README "Sanitizers". LSan checks for leaks at exit.
ASAN_BUILD := $(BUILD)/asan
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# `all` too: the embed spec runs the (uninstrumented) C host example on the normal build.
asan: all
	$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) OPT=-O1 EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" modules
	@mkdir -p $(ASAN_BUILD)/bin
	$(CC) -std=c99 -O1 -g -Wall -Wextra -Werror $(SAN_FLAGS) $(shell pkg-config --cflags lua5.4) \
	  scripts/asan-lua.c -o $(ASAN_BUILD)/bin/lua5.4 $(shell pkg-config --libs lua5.4) -lm -ldl
	PATH="$(CURDIR)/$(ASAN_BUILD)/bin:$$PATH" \
	  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp:print_suppressions=0 \
	  LUA_CPATH="$(CURDIR)/$(ASAN_BUILD)/?.so;;" DWELL_SANITIZER=asan scripts/run-specs $(SPECS)

valgrind: all
	DWELL_SANITIZER=valgrind scripts/run-specs --valgrind $(SPECS)

demo: all
	@scripts/demo

# examples/embed end to end: the sandbox in the background, the C host against it (docs/embedding-c.md).
embed-demo: all
	@scripts/embed-demo

install-check: all
	@scripts/install-check

# Copies the built modules and the Lua sources (LuaRocks' install step).
install: modules
	install -d $(DESTDIR)$(INST_LIBDIR)/dwell
	install -m 0755 $(CORE_SO) $(DESTDIR)$(INST_LIBDIR)/dwell/
	$(if $(SB_SRC),install -d $(DESTDIR)$(INST_LIBDIR)/dwell/sandbox)
	$(if $(SB_SRC),install -m 0755 $(SB_SO) $(DESTDIR)$(INST_LIBDIR)/dwell/sandbox/)
	$(if $(REDIS_SRC),install -d $(DESTDIR)$(INST_LIBDIR)/dwell/store)
	$(if $(REDIS_SRC),install -m 0755 $(REDIS_SO) $(DESTDIR)$(INST_LIBDIR)/dwell/store/)
	cd lua && find dwell -name '*.lua' -exec install -D -m 0644 {} $(DESTDIR)$(INST_LUADIR)/{} \;
	$(if $(INST_BINDIR),install -d $(DESTDIR)$(INST_BINDIR))
	$(if $(INST_BINDIR),install -m 0755 bin/dwell bin/dwell-sandbox $(DESTDIR)$(INST_BINDIR)/)

# Every benchmark that exists in this tree; each prints figures, none asserts speed.
bench: bench-crypto $(if $(wildcard bench/json.lua),bench-json) $(if $(wildcard bench/http.lua),bench-http) $(if $(wildcard bench/parallel.lua),bench-parallel) $(if $(wildcard bench/store.lua),bench-store) $(if $(wildcard bench/loop.lua),bench-loop)

bench-crypto: all
	$(LUA) bench/crypto.lua

# A 20,000-row export one page at a time and with pages fetched ahead (ep:each concurrency).
bench-paging: all
	$(LUA) bench/paging_ahead.lua

# Requests on the wire for the hostile cases of the pipeline issue (uses spec/support/hostile.lua).
# The file and Redis stores' CPU per call against the memory store, then what sharing a store
# changes for 4 processes of one account (both start their own redis-server).
bench-store: all
	LUA_PATH='$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;' $(LUA) bench/store.lua
	LUA_PATH='$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;' $(LUA) bench/store_processes.lua

bench-wire: all
	LUA_PATH='$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;' $(LUA) bench/wire_counts.lua

bench-json: all
	$(LUA) bench/json.lua

# dwell.loop.luv / dwell.loop.cqueues: timer lateness during a batch, overlap, sequential vs concurrent.
bench-loop: all
	$(LUA) bench/loop.lua

# Repeatable instruction counts of the same decodes (callgrind; see bench/json_count.lua).
bench-json-count: all $(BUILD)/bench/json_count
	$(LUA) bench/json_count.lua $(BUILD)/bench/json_count

$(BUILD)/bench/json_count: bench/json_count.c
	@mkdir -p $(dir $@)
	$(CC) -std=c99 $(OPT) -Wall -Wextra -Werror $(shell pkg-config --cflags lua5.4) $< -o $@ $(shell pkg-config --libs lua5.4)

# Instructions of a full signed Tuya call split into decode, transfer, crypto and the Lua layers
# (callgrind, nginx); DWELL_TREE=/path/to/other/checkout[:another] measures those trees too.
bench-call-count: all $(BUILD)/bench/json_count
	@DWELL_BOOTSTRAP_EXTRAS=nginx-light scripts/bootstrap
	$(LUA) bench/signed_call_count.lua $(BUILD)/bench/json_count

# Sequential ep:each over 20 pages of 100 Tuya room users against the same pages fetched by hand.
bench-each-count: all $(BUILD)/bench/json_count
	@DWELL_BOOTSTRAP_EXTRAS=nginx-light scripts/bootstrap
	$(LUA) bench/each_count.lua $(BUILD)/bench/json_count

# nginx-light is a bench-only extra, installed on demand.
bench-http: all $(BUILD)/bench/raw_curl
	@DWELL_BOOTSTRAP_EXTRAS=nginx-light scripts/bootstrap
	$(LUA) bench/http.lua $(BUILD)/bench/raw_curl

# dwell.parallel at concurrency 16/64/256 against bench/delay_server.c (fixed latency), with curl -Z.
bench-parallel: all $(BUILD)/bench/delay_server
	$(LUA) bench/parallel.lua $(BUILD)/bench/delay_server $(BENCH_ARGS)

$(BUILD)/bench/delay_server: bench/delay_server.c
	@mkdir -p $(dir $@)
	$(CC) -std=c99 $(OPT) -Wall -Wextra -Werror $< -o $@

$(BUILD)/bench/raw_curl: bench/raw_curl.c
	@mkdir -p $(dir $@)
	$(CC) -std=c99 $(OPT) -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L $(shell pkg-config --cflags libcurl) $< -o $@ $(shell pkg-config --libs libcurl)

fuzz: bootstrap
	@scripts/fuzz $(or $(FUZZ_SECONDS),60)

# The endpoint reference (docs/reference/*.md, committed: spec/7_tools/docs_spec.lua fails when it is
# stale) from the declarations, and the LDoc HTML of the public Lua API into build/docs/
# (config.ld; lua-ldoc is a docs-only package, installed by bootstrap).
docs: all reference
	ldoc -c config.ld -d $(BUILD)/docs .

reference: modules
	$(LUA) scripts/gen-reference

# The sandbox in the foreground with every vendor emulation (and the transport test routes).
sandbox: all
	$(LUA) bin/dwell-sandbox --routes tuya,rooms,ruckus,echo,static

clean-build:
	rm -rf $(BUILD)

clean: clean-build
