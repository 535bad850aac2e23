# The C library: build, regenerate the header, install.
#
#   make                    # target/release/libcallseal.{so,a} and callseal.pc
#   make install PREFIX=/usr/local [DESTDIR=...] [LIBDIR=...]
#   make uninstall PREFIX=/usr/local
#   make header             # regenerate include/callseal.h (cbindgen 0.29.4)
#   make check-header       # fail if include/callseal.h is stale
#   make capture-sim        # examples/capture_sim linked against the static library
#
# Then: cc app.c $(pkg-config --cflags --libs callseal)
# (set PKG_CONFIG_PATH=$(LIBDIR)/pkgconfig for a prefix pkg-config does not search).

CARGO ?= cargo
CC ?= cc
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
CARGO_TARGET_DIR ?= target
export CARGO_TARGET_DIR
RELEASE := $(CARGO_TARGET_DIR)/release

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
MINOR := $(word 2,$(subst ., ,$(VERSION)))
# As cargo-c does: 0.MINOR while MAJOR is 0 (every minor release may break
# the ABI), then MAJOR.
SOVER := $(if $(filter 0,$(MAJOR)),$(MAJOR).$(MINOR),$(MAJOR))
SONAME := libcallseal.so.$(SOVER)
# What a static link needs besides libcallseal.a (rustc --print native-static-libs).
LIBS_PRIVATE := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
CBINDGEN ?= cbindgen
CBINDGEN_VERSION := 0.29.4

.PHONY: all lib header check-header install uninstall capture-sim $(RELEASE)/callseal.pc

all: lib $(RELEASE)/callseal.pc

# The library without the CLI's dependencies, with a soname. Built with the
# release profile's panic=unwind (the default), which the C boundary needs
# to catch panics.
lib:
	$(CARGO) rustc --release --lib --no-default-features -- -C link-arg=-Wl,-soname,$(SONAME)

$(RELEASE)/callseal.pc: callseal.pc.in Cargo.toml
	mkdir -p $(RELEASE)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' $< > $@

header:
	$(CBINDGEN) --version | grep -qx 'cbindgen $(CBINDGEN_VERSION)' || \
	  { echo "need cbindgen $(CBINDGEN_VERSION): cargo install cbindgen --version $(CBINDGEN_VERSION) --locked"; exit 1; }
	$(CBINDGEN) --config cbindgen.toml --output include/callseal.h src/ffi/mod.rs

check-header:
	CI=1 $(CARGO) test --test header_up_to_date

install: lib $(RELEASE)/callseal.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0644 $(RELEASE)/libcallseal.a $(DESTDIR)$(LIBDIR)/libcallseal.a
	install -m 0755 $(RELEASE)/libcallseal.so $(DESTDIR)$(LIBDIR)/libcallseal.so.$(VERSION)
	ln -sf libcallseal.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libcallseal.so
	install -m 0644 include/callseal.h $(DESTDIR)$(INCLUDEDIR)/callseal.h
	install -m 0644 $(RELEASE)/callseal.pc $(DESTDIR)$(PKGCONFIGDIR)/callseal.pc
	@echo "installed callseal $(VERSION) into $(DESTDIR)$(PREFIX) (run ldconfig for a system prefix)"

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libcallseal.a $(DESTDIR)$(LIBDIR)/libcallseal.so \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libcallseal.so.$(VERSION) \
	      $(DESTDIR)$(INCLUDEDIR)/callseal.h $(DESTDIR)$(PKGCONFIGDIR)/callseal.pc

capture-sim: lib
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -pedantic -pthread -Iinclude \
	  examples/capture_sim.c $(RELEASE)/libcallseal.a $(LIBS_PRIVATE) -o $(RELEASE)/capture_sim
