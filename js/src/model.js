// model.js — the loaded model of the wasm-chord package (what loadModel in index.js returns):
// generate(), chat(), tokenize(), detokenize(), the cache calls (cacheStats, preload,
// clearCache), info and dispose(), over the worker channel index.js opened. Generations hold
// the model by a lease (below and js/README.md, "Concurrency"); generate() is an async iterator
// whose tokens the engine produces at most LOOKAHEAD ahead of the consumer.

import { ChordError } from './errors.js';

// Tokens the engine may run ahead of the consumer. Small, so that stopping (abort, break) costs
// at most this many wasted tokens even when the consumer is slow.
const LOOKAHEAD = 2;

const GEN_DEFAULTS = {
    maxTokens: 256, temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1.0,
    repeatLastN: 64, seed: 0, ignoreEos: false, addSpecial: true, parseSpecial: false, logitsTop: 0,
};

function genParams(o) {
    const p = { ...GEN_DEFAULTS };
    for (const k of Object.keys(GEN_DEFAULTS)) if (o[k] !== undefined) p[k] = o[k];
    if (!(Number.isInteger(p.maxTokens) && p.maxTokens >= 0))
        throw new ChordError('invalid_arg', `maxTokens must be a non-negative integer, got ${p.maxTokens}`);
    if (!(Number.isInteger(p.seed) && p.seed >= 0 && p.seed <= Number.MAX_SAFE_INTEGER))
        throw new ChordError('invalid_arg', `seed must be a non-negative integer, got ${p.seed}`);
    for (const k of ['temperature', 'topP', 'minP', 'repeatPenalty'])
        if (typeof p[k] !== 'number') throw new ChordError('invalid_arg', `${k} must be a number, got ${p[k]}`);
    for (const k of ['topK', 'repeatLastN', 'logitsTop'])
        if (!Number.isInteger(p[k])) throw new ChordError('invalid_arg', `${k} must be an integer, got ${p[k]}`);
    return p;
}

// Drops the lease of a generation whose iterator was garbage-collected without being finished
// or returned (taken one step and forgotten): the engine is stopped and the model freed for
// the next call.
const abandoned = new FinalizationRegistry((gen) => gen.abandon());

// The request queue and the lease (documented in js/README.md, "Concurrency"):
// - tokenize/detokenize/generate calls are queued in order in the worker: issued together, they
//   run one after another;
// - a generation holds the model from its iterator's first next() until the engine has
//   stopped (it ran out of tokens, the consumer finished, broke out, called return(), the signal
//   aborted, or the iterator was dropped and collected). While it holds the model, any other
//   call fails at once with ChordError 'busy' instead of waiting: the generation waits for its
//   consumer, so a call that waited for the generation could wait forever (two iterators
//   advanced alternately, a tokenize awaited inside the loop body);
// - dispose() rejects what is queued ('disposed') and stops what runs.
class Model {
    #ch; #info; #flow; #genCounter = 0; #lease = null; #memory = null; #cancelIndex = -1; #disposed = false;
    /** Details of the last finished generate(): { status, promptTokens, tokens, stats }. */
    lastGeneration = null;
    /** The engine's counters right after the latest generated token — { cache (as cacheStats()),
     *  memoryBytes (wasm memory), heapUsed, tokens (of this generation) } — updated while a
     *  generation runs (cacheStats() is busy then); null before the first token. */
    liveStats = null;

    constructor(channel, raw, { init, need, flow, loadMs, source, chatTemplate, store = null, path = null, load = null }) {
        this.#ch = channel;
        // Flow control and cancel through shared memory when the worker could share its memory
        // (the session's cancel word lives there); otherwise through messages (browsers that are
        // not crossOriginIsolated).
        this.#flow = init.mode === 'shared' ? flow : null;
        this.#memory = init.mode === 'shared' && init.memory ? init.memory : null; // the SharedArrayBuffer
        const { metadata, ...rest } = raw;
        this.#info = Object.freeze({
            architecture: raw.arch,
            name: raw.name,
            metadata: Object.freeze({ ...metadata }),
            sizes: Object.freeze({
                fileBytes: raw.file_bytes, weightBytes: raw.weight_bytes, nParams: raw.n_params,
                nVocab: raw.n_vocab, nCtxTrain: raw.n_ctx_train, nCtx: need.nCtx, nEmbd: raw.n_embd,
                nLayer: raw.n_layer, nHead: raw.n_head, nHeadKv: raw.n_head_kv, nFf: raw.n_ff,
                memoryBytes: raw.memory_bytes, estimatedBytes: need.total, kvCacheBytes: need.kvCache,
                modelAddress: raw.model_address,
            }),
            bos: raw.bos, eos: raw.eos, ropeTheta: raw.rope_theta, chatTemplate,
            build: init.build, wasmFile: init.file, simd: init.simd, threads: init.threads,
            loadMs, source: { kind: source.kind, name: source.name },
            // The host store the model was read through ({ kind, read: 'host'|'copy', regions,
            // cached, resumedFrom, fetched }), or null for a streamed load.
            store: store ? Object.freeze({ ...store }) : null,
            // Which path runs and why: { residency: 'resident' | 'paged', why }.
            path: Object.freeze(path ?? { residency: 'resident', why: null }),
            // A streamed load's buffers ({ chunks, chunkBytes, stagingBuffers, stagingBytes,
            // maxInFlightBytes, byob, unpooledBytes }): what it needed besides the wasm memory.
            // null for a load through a store.
            load: load ? Object.freeze({ ...load }) : null,
            raw: Object.freeze(rest),
        });
    }

    /** Architecture, metadata, sizes and which build runs. */
    get info() { return this.#info; }

    #check(what) {
        if (this.#disposed || this.#ch.dead) throw this.#ch.dead ?? new ChordError('disposed', 'the model was disposed');
        if (this.#lease)
            throw new ChordError('busy', `${what}: the model is generating (finish, break out of or return() ` +
                'the running generate() iterator first)');
    }

    /** Text → token ids (Int32Array). addSpecial adds BOS as the model asks. */
    async tokenize(text, { addSpecial = true, parseSpecial = false } = {}) {
        this.#check('tokenize');
        if (typeof text !== 'string') throw new ChordError('invalid_arg', 'tokenize: text must be a string');
        return this.#ch.call('tokenize', { text, addSpecial, parseSpecial });
    }

    /** Token ids → text. */
    async detokenize(tokens) {
        this.#check('detokenize');
        if (!tokens || typeof tokens.length !== 'number')
            throw new ChordError('invalid_arg', 'detokenize: tokens must be an array of token ids');
        return this.#ch.call('detokenize', { tokens: Array.from(tokens) });
    }

    #cancel(genId) {
        if (this.#flow) {
            Atomics.store(this.#flow, 1, genId);
            Atomics.notify(this.#flow, 0);
        }
        // The session's cancel word: the same store as C chord_session_cancel (stops a feed).
        // A one-word view: a typed array over a whole memory above 4 GiB is not portable.
        if (this.#memory && this.#cancelIndex >= 0) Atomics.store(new Int32Array(this.#memory, this.#cancelIndex * 4, 1), 0, 1);
        this.#ch.send('cancel', { genId });
    }

    /**
     * Streams the answer to a conversation, like generate(): `messages` ([{ role, content }, …],
     * the whole conversation including earlier answers) is rendered with the model's chat
     * template — options.template (a Jinja string) overrides it, options.templateVars adds
     * variables (e.g. { date_string }), options.tools is passed on — and tokenized with its
     * special tokens. The KV cache keeps what the conversation shares with the previous chat()
     * call, so a turn prefills only its new tokens. Afterwards lastGeneration.rendered is the
     * prompt text and lastGeneration.reusedTokens the part that came from the cache.
     */
    chat(messages, opts = {}) {
        return this.#stream(() => {
            if (!Array.isArray(messages) || messages.length === 0)
                throw new ChordError('invalid_arg', 'chat: messages must be a non-empty array of { role, content }');
            messages.forEach((m, i) => {
                if (!m || typeof m.role !== 'string')
                    throw new ChordError('invalid_arg', `chat: messages[${i}].role must be a string`);
                if (m.content !== null && m.content !== undefined && typeof m.content !== 'string' && !Array.isArray(m.content))
                    throw new ChordError('invalid_arg', `chat: messages[${i}].content must be a string, an array of parts or null`);
            });
            if (opts.template !== undefined && opts.template !== null && typeof opts.template !== 'string')
                throw new ChordError('invalid_arg', 'chat: template must be a string');
            const vars = opts.templateVars ?? {};
            if (typeof vars !== 'object' || Array.isArray(vars)) throw new ChordError('invalid_arg', 'chat: templateVars must be an object');
            const conversation = { ...vars, messages, add_generation_prompt: opts.addGenerationPrompt ?? true };
            if (opts.tools !== undefined) conversation.tools = opts.tools;
            return { chat: { conversation, template: opts.template || null } };
        }, opts, 'chat');
    }

    #ack(genId, consumed) {
        if (this.#flow) {
            Atomics.store(this.#flow, 0, consumed);
            Atomics.notify(this.#flow, 0);
        } else {
            this.#ch.send('ack', { genId, consumed });
        }
    }

    /**
     * Streams { token, text } pieces for a prompt (a string, or an array of token ids). The
     * signal stops generation before the next token; the model stays usable. Breaking out of
     * the loop, return(), or dropping the iterator stops it too. Returns an async iterator;
     * nothing starts before its first next().
     */
    generate(prompt, opts = {}) {
        return this.#stream(() => {
            if (typeof prompt !== 'string' && !(prompt && typeof prompt.length === 'number'))
                throw new ChordError('invalid_arg', 'generate: prompt must be a string or an array of token ids');
            return typeof prompt === 'string' ? { prompt } : { tokens: Array.from(prompt) };
        }, opts, 'generate');
    }

    // The one request path to the worker (generate, chat): makeReq() checks the caller's input
    // and returns the request, at the first next() like the checks of an async generator.
    #stream(makeReq, opts, what) {
        const model = this;
        const g = {
            started: false, leased: false, finished: false, settled: false, genId: 0,
            queue: [], all: [], nTokens: 0, wake: null, failure: null, result: null, promptTokens: null,
            consumed: 0, firstTopLogits: null, rendered: null, signal: opts.signal, onAbort: null, settledP: null,
            onLive: typeof opts.onLive === 'function' ? opts.onLive : null,
            stopped: null, // a ChordError once dispose() stopped the generation
            ping() { const w = g.wake; g.wake = null; w?.(); },
            // The engine is idle again: give the model back, record the generation.
            settle() {
                if (g.settled) return;
                g.settled = true;
                g.signal?.removeEventListener('abort', g.onAbort);
                if (model.#lease === g) model.#lease = null;
                model.lastGeneration = {
                    status: g.failure ? 'error' : (g.signal?.aborted ? 'cancelled' : (g.result?.status ?? 'cancelled')),
                    promptTokens: g.promptTokens, tokens: g.all.filter((t) => t >= 0), stats: g.result?.stats ?? null,
                };
                if (g.firstTopLogits) model.lastGeneration.firstTopLogits = g.firstTopLogits;
                if (g.rendered) Object.assign(model.lastGeneration, { rendered: g.rendered.text, reusedTokens: g.rendered.reused });
                g.ping();
            },
            abandon() { if (g.leased && !g.settled) model.#cancel(g.genId); g.finished = true; g.queue.length = 0; },
        };
        const start = () => {
            g.started = true;
            model.#check(what);
            const req = makeReq();
            const params = genParams(opts);
            if (g.signal?.aborted) throw new ChordError('cancelled', 'generation aborted');
            model.#lease = g;
            model.liveStats = null;
            g.leased = true;
            g.genId = ++model.#genCounter;
            if (model.#flow) { Atomics.store(model.#flow, 0, 0); Atomics.store(model.#flow, 1, 0); }
            const call = model.#ch.call('generate', { ...req, params, genId: g.genId, lookahead: LOOKAHEAD }, [], (ev) => {
                if (ev.event === 'prompt') {
                    g.promptTokens = ev.tokens;
                    if (ev.cancelIndex >= 0) model.#cancelIndex = ev.cancelIndex;
                } else if (ev.event === 'rendered') g.rendered = { text: ev.text, reused: ev.reused };
                else if (ev.event === 'logits') g.firstTopLogits = ev.top;
                else if (ev.event === 'live') {
                    model.liveStats = { ...ev.live, tokens: g.nTokens };
                    g.onLive?.(model.liveStats);
                }
                else if (ev.event === 'token') {
                    g.all.push(ev.token);
                    if (ev.token >= 0) g.nTokens++;
                    if (ev.live) {
                        model.liveStats = { ...ev.live, tokens: g.nTokens };
                        g.onLive?.(model.liveStats);
                    }
                    if (!g.finished) g.queue.push({ token: ev.token, text: ev.text });
                    g.ping();
                }
            });
            g.settledP = call.then((r) => { g.result = r; }, (e) => { g.failure = e; }).then(() => g.settle());
            g.onAbort = () => { model.#cancel(g.genId); g.ping(); };
            g.signal?.addEventListener('abort', g.onAbort, { once: true });
        };
        // Stops the engine (if it still runs) and waits until it is idle.
        const stop = async () => {
            g.finished = true;
            g.queue.length = 0;
            if (g.leased && !g.settled) {
                model.#cancel(g.genId);
                await g.settledP;
            }
        };
        const step = async () => {
            if (g.finished) return { done: true, value: undefined };
            try {
                if (!g.started) start();
                for (;;) {
                    if (g.stopped) throw g.stopped;
                    if (g.signal?.aborted) {
                        await stop();
                        throw new ChordError('cancelled', 'generation aborted' +
                            (g.signal.reason?.message ? `: ${g.signal.reason.message}` : ''));
                    }
                    if (g.queue.length) {
                        const value = g.queue.shift();
                        g.consumed++;
                        if (!g.settled) model.#ack(g.genId, g.consumed);
                        return { done: false, value };
                    }
                    if (g.settled) {
                        g.finished = true;
                        if (g.failure) throw ChordError.from(g.failure);
                        return { done: true, value: undefined };
                    }
                    await new Promise((r) => { g.wake = r; });
                }
            } catch (e) {
                g.finished = true;
                if (g.leased && !g.settled) await stop();
                throw e;
            }
        };
        let chain = Promise.resolve();
        const serial = (fn) => { const r = chain.then(fn, fn); chain = r.catch(() => {}); return r; };
        const it = {
            next: () => serial(step),
            return: (value) => serial(async () => { await stop(); return { done: true, value }; }),
            throw: (err) => serial(async () => { await stop(); throw err; }),
            [Symbol.asyncIterator]() { return this; },
        };
        // The registry holds g, never `it`, so a dropped iterator can be collected.
        abandoned.register(it, g, g);
        return it;
    }

    /** Layer cache counters (chord_model_cache_stats): { policy, n_layer, slots, pinned, hits,
     *  misses, prefetch_hits, evictions, bytes_read, read_ms, stall_ms, resident_bytes }. */
    async cacheStats() {
        this.#check('cacheStats');
        return this.#ch.call('cacheStats');
    }

    /** Fills every slot (every layer when all fit); store read errors are ChordError('io'). */
    async preload() {
        this.#check('preload');
        await this.#ch.call('preload');
    }

    /** Drops cached layers that are not pinned. */
    async clearCache() {
        this.#check('clearCache');
        await this.#ch.call('clearCache');
    }

    /** Frees the model and stops the worker (and its threads): queued calls are rejected with
     * 'disposed', a running generation stops (its iterator throws 'disposed'). Safe to call twice. */
    async dispose() {
        if (this.#disposed) return;
        this.#disposed = true;
        const g = this.#lease;
        if (g) {
            g.stopped = new ChordError('disposed', 'the model was disposed during generation');
            this.#cancel(g.genId);
            g.ping();
        }
        await this.#ch.close();
    }
}

export { Model };
