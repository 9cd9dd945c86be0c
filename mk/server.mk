# mk/server.mk — the native-only CLI commands: `serve` (tools/server, libmicrohttpd + cJSON) and
# `chat` (tools/chat, libedit). They link into build/wasm-chord only; the library stays free of
# HTTP, JSON and terminal code, and the WASI CLI (mk/wasm.mk) builds without them.
NATIVE_CMD_SRC := $(wildcard tools/server/*.c tools/chat/*.c)
$(BUILD)/wasm-chord: $(NATIVE_CMD_SRC:%.c=$(BUILD)/%.o)
# these objects come after libchord.a on the link line ($^), so the archive is named again
$(BUILD)/wasm-chord: LDLIBS := $(BUILD)/libchord.a -lmicrohttpd -lcjson -ledit $(LDLIBS)
$(NATIVE_CMD_SRC:%.c=$(BUILD)/%.o): CFLAGS += -Itools/cli -I/usr/include/editline
