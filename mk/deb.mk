# mk/deb.mk — the Debian package, built as Debian builds it.
#
#   make deb        installs debhelper, lintian and blhc when missing, builds
#                   build/dev2prodd_VERSION_ARCH.deb with
#                   `dpkg-buildpackage -us -uc -b` in a copy of the tree
#                   (build/deb/src: dpkg-buildpackage writes its results
#                   beside the tree it builds, which would litter the
#                   repository's parent), then checks the build log with blhc
#                   (Debian's hardening flags on every compile and link) and
#                   the package with lintian (fails on any error or warning;
#                   debian/dev2prodd.lintian-overrides holds the reasons)
#   make deb-package   only the build (tests/integration/test_deb.sh uses it)
#
# The package is rebuilt only when a file of the tree changed (its
# prerequisites are the tree's files), so the test reuses it.

DEB_BUILD_DEBS := debhelper
DEB_CHECK_DEBS := lintian blhc
GOAL_DEBS      += $(if $(filter deb,$(MAKECMDGOALS)),$(DEB_BUILD_DEBS) $(DEB_CHECK_DEBS)) \
                  $(if $(filter deb-package,$(MAKECMDGOALS)),$(DEB_BUILD_DEBS))
DEB_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null)
DEB_FILE    := $(BUILD)/dev2prodd_$(DEB_VERSION)_$(DEB_ARCH).deb
# the tree's own files: git's list in a checkout, else everything but build*/
DEB_TREE    := $(shell git ls-files -co --exclude-standard 2>/dev/null | grep -v '^build' || \
                       find . -path './build*' -prune -o -path ./.git -prune -o -type f -print)

.PHONY: deb deb-package
$(BUILD)/.deps-debbuild: $(BUILD)/.deps-build
	$(call need_debs,$(DEB_BUILD_DEBS))
	@touch $@
$(BUILD)/.deps-deb: $(BUILD)/.deps-debbuild
	$(call need_debs,$(DEB_CHECK_DEBS))
	@touch $@

$(DEB_FILE): $(wildcard $(DEB_TREE)) | $(BUILD)/.deps-debbuild
	@echo "copying the tree to $(BUILD)/deb/src"
	@rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	@printf '%s\n' $(wildcard $(DEB_TREE)) | tar -c -T - -f - | tar -x -C $(BUILD)/deb/src
	@echo "dpkg-buildpackage -us -uc -b (log: $(BUILD)/deb/build.log)"
	@# (without our MAKEFLAGS: a BUILD=... given to this make would reach the
	@# package's own make, whose `make clean` would then remove this build/)
	@cd $(BUILD)/deb/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	  dpkg-buildpackage -us -uc -b > ../build.log 2>&1 || \
	  { tail -40 ../build.log; echo "dpkg-buildpackage failed: $(BUILD)/deb/build.log"; exit 1; }
	cp $(BUILD)/deb/$(notdir $@) $@

deb-package: $(DEB_FILE)

# blhc --bindnow, not --all: bookworm's gcc builds PIE by default, so
# dpkg-buildflags adds no -fPIE (and blhc --all would ask for it);
# hardening-check (devscripts) on the binaries says "PIE: yes"
deb: $(DEB_FILE) $(BUILD)/.deps-deb
	blhc --bindnow $(BUILD)/deb/build.log
	@echo "lintian $(DEB_FILE)"
	@lintian --fail-on error,warning --info --display-info $(DEB_FILE)
	@echo "package: $(DEB_FILE)"; dpkg-deb --contents $(DEB_FILE)
