# The C library, built and installed the way C libraries are:
#
#   make                                  # = make lib: target/dist/libtradewire.{so,a}
#   make install PREFIX=/usr/local        # (sudo) lays out the prefix below
#   make install PREFIX=$HOME/.local      # or anywhere; DESTDIR=... for packagers
#   make install-strip PREFIX=...         # the same, without debug line tables
#   make uninstall PREFIX=...
#
# Installed:
#   $(LIBDIR)/libtradewire.so.X.Y.Z       soname libtradewire.so.X (ffi/build.rs), with the
#   $(LIBDIR)/libtradewire.so.X, .so      links to it
#   $(LIBDIR)/libtradewire.a              Rust standard library included
#   $(INCLUDEDIR)/tradewire.h
#   $(LIBDIR)/pkgconfig/tradewire.pc      pkg-config --cflags --libs [--static] tradewire
#   $(LIBDIR)/cmake/tradewire/            find_package(tradewire): tradewire::tradewire (shared)
#                                         and tradewire::tradewire_static
#
# The version is the workspace's (Cargo.toml [workspace.package]), the one of the crates, the
# wheel and the CLI. The system libraries the static library needs (pkg-config's Libs.private,
# the static CMake target's link libraries) are what rustc reports when it links it
# (--print native-static-libs), written to $(BUILDDIR)/native-static-libs.txt by `make lib`.

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR    ?=
PROFILE    ?= dist
CARGO      ?= cargo
INSTALL    ?= install

ROOT       := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
TARGET_DIR ?= $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),$(ROOT)/target)
# cargo calls the debug profile `dev` but builds it into target/debug.
BUILDDIR   := $(TARGET_DIR)/$(PROFILE)
CARGOFLAGS := --profile $(if $(filter debug,$(PROFILE)),dev,$(PROFILE))
VERSION    := $(shell sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' $(ROOT)/Cargo.toml)
MAJOR      := $(word 1,$(subst ., ,$(VERSION)))
MINOR      := $(word 2,$(subst ., ,$(VERSION)))
SONAME     := libtradewire.so.$(MAJOR)
REALNAME   := libtradewire.so.$(VERSION)
CMAKEDIR   := $(LIBDIR)/cmake/tradewire
# In the .pc file, paths under the prefix are written from ${prefix}.
PC_LIBDIR  := $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCDIR  := $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

.PHONY: all lib install install-strip uninstall
all: lib

# Always asks cargo (it knows whether the library is up to date; a fresh build replays the
# note with the static libraries). Everything that uses target/dist builds it through here,
# with these exact flags, so that no two commands rebuild it in turn.
lib:
	@cd $(ROOT) && out=$$(mktemp) && \
	if ! $(CARGO) rustc --quiet -p tradewire-ffi --lib $(CARGOFLAGS) \
	        -- --print native-static-libs 2>$$out; then cat $$out >&2; rm -f $$out; exit 1; fi; \
	grep -v 'native-static-libs' $$out | grep -vi '^note: link against' | grep . >&2; \
	libs=$$(sed -n 's/^note: native-static-libs: //p' $$out); rm -f $$out; \
	test -n "$$libs" || { echo "make: rustc reported no native-static-libs" >&2; exit 1; }; \
	echo "$$libs" >$(BUILDDIR)/native-static-libs.txt; \
	ln -sf libtradewire.so $(BUILDDIR)/$(SONAME)

install: lib
	@test -n "$(VERSION)" || { echo "make: no version in Cargo.toml" >&2; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(CMAKEDIR)
	$(INSTALL) -m 755 $(BUILDDIR)/libtradewire.so $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libtradewire.so
	$(INSTALL) -m 644 $(BUILDDIR)/libtradewire.a $(DESTDIR)$(LIBDIR)/libtradewire.a
	$(INSTALL) -m 644 $(ROOT)/include/tradewire.h $(DESTDIR)$(INCLUDEDIR)/tradewire.h
	libs="$$(cat $(BUILDDIR)/native-static-libs.txt)"; \
	cmake_libs="$$(echo $$libs | sed 's/-l//g; s/ /;/g')"; \
	prefix_from_cmake="$$(realpath -m --relative-to=$(CMAKEDIR) $(PREFIX))"; \
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(PC_LIBDIR)|; s|@INCLUDEDIR@|$(PC_INCDIR)|' \
	    -e "s|@VERSION@|$(VERSION)|; s|@LIBS_PRIVATE@|$$libs|" \
	    $(ROOT)/ffi/install/tradewire.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/tradewire.pc; \
	sed -e "s|@PREFIX_FROM_CMAKEDIR@|$$prefix_from_cmake|; s|@STATIC_LIBS@|$$cmake_libs|" \
	    -e 's|@LIBDIR_FROM_PREFIX@|$(patsubst $(PREFIX)/%,%,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR_FROM_PREFIX@|$(patsubst $(PREFIX)/%,%,$(INCLUDEDIR))|' \
	    -e 's|@REALNAME@|$(REALNAME)|; s|@SONAME@|$(SONAME)|' \
	    $(ROOT)/ffi/install/tradewireConfig.cmake.in >$(DESTDIR)$(CMAKEDIR)/tradewireConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|; s|@VERSION_MAJOR@|$(MAJOR)|; s|@VERSION_MINOR@|$(MINOR)|' \
	    $(ROOT)/ffi/install/tradewireConfigVersion.cmake.in \
	    >$(DESTDIR)$(CMAKEDIR)/tradewireConfigVersion.cmake

# The same without the debug line tables (the dist profile keeps them for profiling): the
# shared library goes from about 13 MB to 2.6 MB.
install-strip: install
	strip --strip-debug $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/libtradewire.a

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libtradewire.so $(DESTDIR)$(LIBDIR)/libtradewire.a \
	    $(DESTDIR)$(INCLUDEDIR)/tradewire.h $(DESTDIR)$(LIBDIR)/pkgconfig/tradewire.pc \
	    $(DESTDIR)$(CMAKEDIR)/tradewireConfig.cmake $(DESTDIR)$(CMAKEDIR)/tradewireConfigVersion.cmake
	-rmdir $(DESTDIR)$(CMAKEDIR)
