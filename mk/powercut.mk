# mk/powercut.mk — `make powercutfs`: the power-cut filesystem of the tests
# (tests/powercut/README.md).  `make check` builds it for
# tests/integration/test_powercutfs.sh.

POWERCUT_SRCS := $(wildcard tests/powercut/*.c)
FUSE_CFLAGS = $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   = $(shell pkg-config --libs fuse3 2>/dev/null)

.PHONY: powercutfs
powercutfs: $(BUILD)/powercutfs
$(BUILD)/powercutfs: $(POWERCUT_SRCS) $(wildcard tests/powercut/*.h) | $(BUILD)/.deps-test
	$(CC) $(ALL_CFLAGS) $(FUSE_CFLAGS) $(LDFLAGS) -o $@ $(POWERCUT_SRCS) $(FUSE_LIBS)

check: $(BUILD)/powercutfs
