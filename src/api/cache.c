/*
 * cache.c — the public face of the weights module's layer cache: statistics, preload, clear.
 */
#include <string.h>

#include "core/error.h"
#include "model/model.h"

chord_status chord_model_cache_stats(const chord_model *m, chord_cache_stats *out) {
    if (!m || !out) return CHORD_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!m->weights) return CHORD_E_INVALID_ARG; /* vocab_only: no weights */
    chord_weights_stats(m->weights, out);
    return CHORD_OK;
}

chord_status chord_model_preload(chord_model *m, chord_error *err) {
    if (!m) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_model_preload: NULL model");
    if (!m->weights) return chord_fail(err, CHORD_E_INVALID_ARG, "the model was opened vocab_only: no weights");
    return chord_weights_preload(m->weights, err);
}

chord_status chord_model_clear_cache(chord_model *m) {
    if (!m || !m->weights) return CHORD_E_INVALID_ARG;
    chord_weights_clear(m->weights);
    return CHORD_OK;
}
