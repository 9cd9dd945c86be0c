/*
 * check_model.h — open a model of the shared test material (stories260K, the vocabularies) or
 * skip: the preamble the tests on the real model share. Include after chord.h and check.h.
 */
#ifndef CHORD_CHECK_MODEL_H
#define CHORD_CHECK_MODEL_H

/* Opens $CHORD_SHARED/rel (else the repository's copy) with mp (NULL: defaults) and leaves its
 * path in path[cap] for tests that reopen it. NULL when the file is absent (a SKIP line is
 * printed) or the open fails (recorded as a failed check with the engine's message). */
__attribute__((unused)) static chord_model *check_open_shared(const char *rel, const chord_model_params *mp,
                                                              char *path, size_t cap) {
    if (!check_shared_path(rel, path, cap)) return NULL;
    chord_error err_, *err = &err_;
    chord_model *m = NULL;
    CHECK_OK(chord_model_open(&m, path, mp, err), err);
    return m;
}
#endif
