/*
 * fuzz_template.c — libFuzzer target for the chat-template renderer (src/chat/): the input is a
 * template, optionally followed by a NUL byte and a conversation JSON (otherwise a fixed
 * conversation with tools is used), rendered under small sandbox limits. Any crash, sanitizer
 * report, leak or timeout is a bug; a template or JSON error is an ordinary outcome, but it
 * must come with a message. Built and run by `make fuzz-template SECONDS=N` (mk/fuzz.mk),
 * seeded with llama.cpp's real templates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chord.h"

static const char CONV[] =
    "{\"messages\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"Hi \\u00e9\"},"
    "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
    "\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}]},{\"role\":\"tool\",\"content\":\"r\"},"
    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"part\"}]}],"
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}}],"
    "\"now_unix\":1764547200}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *tmpl = (const char *)data, *conv = CONV;
    size_t tlen = size, clen = sizeof CONV - 1;
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        tlen = (size_t)(nul - data);
        conv = (const char *)nul + 1;
        clen = size - tlen - 1;
    }
    chord_chat_limits lim = chord_chat_limits_default();
    lim.max_output_bytes = 1 << 20;
    lim.max_steps = 200000;
    lim.max_depth = 100;
    lim.max_memory_bytes = 64 << 20;
    char *out = NULL;
    size_t n = 0;
    chord_error err;
    chord_status st = chord_chat_render_template_ex(tmpl, tlen, "<s>", "</s>", conv, clen, &lim, &out, &n, &err);
    if (st == CHORD_OK) {
        if (!out || out[n] != 0) abort();
    } else if (out || !err.message[0]) abort();
    chord_free(out);
    return 0;
}
