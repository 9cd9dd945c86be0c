// worker.js — the engine's home: a dedicated Worker in browsers, a worker_threads Worker in Node.
// The page's (or process's) main thread never runs inference: it sends requests here and gets
// replies and streamed tokens back. One worker holds one engine (one shared wasm memory, plus
// the engine's own thread workers) and at most one model.
//
// Protocol (every request has an `id`; replies carry the same id):
//   → { id, op: 'init', target, wasmUrl, threads, maxMemoryBytes }  ← { id, ok, result: { build, threads, simd, memory, mode } }
//   → { id, op: 'plan', head, size, nCtx, threads, nBatch }         ← { id, ok, result: { wasm32, wasm64 } }
//   → { id, op: 'begin', size }                                      ← { id, ok }
//   → { id, op: 'chunk', buffer, n }    (buffer transferred)         ← { id, ok, result: { loaded, buffer, copyMs } }
//                                        (its first n bytes are copied into the model; the buffer goes back)
//   → { id, op: 'finish', nCtx }                                     ← { id, ok, result: info }
//   → { id, op: 'abortLoad' }                                        ← { id, ok }
//   → { id, op: 'storeOpen', desc }     (a host store, stores.js)    ← { id, event: 'progress', phase: 'download', … }*
//                                                                    ← { id, ok, result: { kind, name, size, sync, cached? } }
//   → { id, op: 'storeHead', len }                                   ← { id, ok, result: Uint8Array }
//   → { id, op: 'openHost', nCtx, nBatch, paging? }  (after init)    ← { id, event: 'progress', phase: 'load', … }*
//                                                                    ← { id, ok, result: info }
//   → { id, op: 'cacheStats' | 'preload' | 'clearCache' }            ← { id, ok, result: stats | undefined }
//   → { id, op: 'tokenize', text, addSpecial, parseSpecial }         ← { id, ok, result: Int32Array }
//   → { id, op: 'detokenize', tokens }                               ← { id, ok, result: string }
//   → { id, op: 'generate', prompt | tokens | chat, params, genId }  ← { id, event: 'rendered', text, reused } (chat)
//                                                                    ← { id, event: 'prompt', tokens, cancelIndex }
//                                                                    ← { id, event: 'token', token, text, live }*
//                                        (live: { cache, memoryBytes, heapUsed } right after that token)
//                                        ← { id, event: 'live', live } after each layer of the prompt's prefill
//                                        (live.prefill: { done, batch, total, layer, nLayer })
//                                                                    ← { id, ok, result: { status, stats } }
//   → { id, op: 'cancel', genId }   (only needed when the cancel word could not be shared)
//   → { id, op: 'dispose' }                                          ← { id, ok }
// Errors: { id, ok: false, error: { name: 'ChordError', code, message } }.
//
// Cancelling: the session's cancel word lives in the engine's shared memory (what C
// chord_session_cancel stores 1 into). When that memory can be posted to the main thread (Node
// always; browsers when crossOriginIsolated) the main thread gets the memory at init and the
// word's index with the 'prompt' event, and stores 1 there: a running feed stops between
// batches, the C generate loop before the next token; the flow word's [1] = genId stops the
// token callback too. Otherwise generation runs one token per step here and yields to this
// worker's event loop between steps, so a 'cancel' message gets through within one token.

import { createEngine, enableRelaxedSimd, pickBuild } from './core.js';
import { ChordError } from './errors.js';
import { RegionStore, BlobStore, RangeStore, PathStore } from './stores.js';

let port = null;
if (typeof process !== 'undefined' && process.versions?.node && typeof globalThis.WorkerGlobalScope === 'undefined') {
    const wt = await import('node:worker_threads');
    port = { post: (m, t) => wt.parentPort.postMessage(m, t), on: (fn) => wt.parentPort.on('message', fn) };
} else {
    port = { post: (m, t) => self.postMessage(m, t), on: (fn) => self.addEventListener('message', (e) => fn(e.data)) };
}

const state = {
    engine: null,
    loader: null,
    model: null,
    session: null,
    nCtx: 0,
    cancelShared: false,
    cancelledGen: -1,   // genId the main thread asked to cancel (message path)
    flow: null,         // Int32Array on a SharedArrayBuffer: [0] tokens consumed, [1] cancelled genId
    acked: 0,           // tokens consumed (message path)
    onAck: null,
    store: null,        // the host store (stores.js) behind env.chord_host_read, if any
    storeError: null,   // the ChordError of the last failed store read (the engine sees a code)
    progress: null,     // { id, loaded, last } while a load through the store runs
};

// A result whose buffers are transferred back with the reply.
class Reply {
    constructor(result, transfer) { this.result = result; this.transfer = transfer; }
}

function errorOut(e) {
    if (e instanceof ChordError || (e && e.name === 'ChordError'))
        return { name: 'ChordError', code: e.code, message: e.message };
    return { name: 'ChordError', code: 'internal', message: e?.message ? String(e.message) : String(e) };
}

// ---- engine and loading -----------------------------------------------------------------------

async function init({ target, wasmUrl, threads, maxMemoryBytes, relaxed, flow }) {
    if (state.engine) throw new ChordError('invalid_arg', 'engine already initialised');
    // Relaxed SIMD when the engine has it (Node 20: behind a V8 flag that enableRelaxedSimd sets).
    const useRelaxed = relaxed === true || ((relaxed ?? 'auto') === 'auto' && await enableRelaxedSimd());
    const file = pickBuild({ relaxed: useRelaxed, target });
    const url = new URL(file, wasmUrl).href;
    let engine;
    try {
        engine = await createEngine({ wasm: url, target, threads, maxMemoryBytes, hostRead: (handle, off, dst) => hostRead(off, dst),
            hostReadAsync: (handle, off, dst, len, st) => (state.store?.prefetch ? state.store.prefetch(off, dst, len, st) : 4),
            hostDrain: () => state.store?.drain?.() });
    } catch (e) {
        if (e?.name === 'ChordError') throw e;
        throw new ChordError('io', `cannot load the wasm build ${url}: ${e?.message ?? e}`);
    }
    state.engine = engine;
    state.flow = flow ?? null;
    // Try to share the memory (for the cancel word); a DataCloneError means it cannot leave
    // this thread.
    let memory = null;
    if (typeof SharedArrayBuffer !== 'undefined' && engine.memory.buffer instanceof SharedArrayBuffer) {
        try {
            const probe = new MessageChannel();
            probe.port1.postMessage(engine.memory.buffer);
            probe.port1.close();
            probe.port2.close();
            memory = engine.memory.buffer;
            state.cancelShared = !!state.flow;
            state.memoryShareable = true;
        } catch { /* not crossOriginIsolated: use the message path */ }
    }
    return {
        build: engine.target,
        file,
        threads: engine.threads,
        simd: engine.buildInfo?.simd ?? null,
        buildInfo: engine.buildInfo,
        memory: state.cancelShared ? memory : null,
        mode: state.cancelShared ? 'shared' : 'message',
    };
}

function begin({ size, weightsAbove }) {
    if (state.model || state.loader) throw new ChordError('invalid_arg', 'a model is already loaded in this worker');
    state.loader = state.engine.beginLoad(size, { minAddress: weightsAbove ?? 0 });
    state.modelAddress = state.loader.ptr;
    return { address: state.modelAddress };
}

// The staging buffer goes back to the main thread to be filled again (index.js, StagingPool).
function chunk({ buffer, n }) {
    if (!state.loader) throw new ChordError('invalid_arg', 'chunk without begin');
    const t = performance.now();
    const loaded = state.loader.write(new Uint8Array(buffer, 0, n));
    return new Reply({ loaded, buffer, copyMs: performance.now() - t }, [buffer]);
}

function finish({ nCtx, nBatch }) {
    const loader = state.loader;
    state.loader = null;
    state.model = loader.finishLoad({ vocabOnly: false });
    state.nCtx = nCtx || 0;
    state.nBatch = nBatch || 0;
    return modelInfo();
}

// ---- host stores (stores.js, opfs.js) ------------------------------------------------------------

async function storeOpen({ id, desc }) {
    if (state.store || state.model) throw new ChordError('invalid_arg', 'a model is already loaded in this worker');
    let store, extra = {};
    if (desc.kind === 'regions') store = new RegionStore(desc.regions, desc.name);
    else if (desc.kind === 'blob' || desc.kind === 'range') {
        store = desc.kind === 'blob' ? new BlobStore(desc.blob) : new RangeStore(desc.url, { headers: desc.headers });
        // No synchronous read on this host (Node): a Range store moves to a helper worker and
        // the engine thread waits on an atomic for each piece (store_bridge.js). Not a Node
        // Blob: its reads stall while the thread it came through is blocked, so it is copied in.
        if (!store.canReadSync && desc.kind === 'range' && typeof SharedArrayBuffer !== 'undefined' &&
            typeof Atomics.waitAsync === 'function') {
            const { BridgedStore } = await import('./store_bridge.js');
            store = await BridgedStore.create(desc);
            extra = { bridged: true };
        }
    }
    else if (desc.kind === 'path') store = new PathStore(desc.path);
    else if (desc.kind === 'opfs') {
        const { downloadToCache } = await import('./opfs.js');
        const r = await downloadToCache(desc.url, { headers: desc.headers, stallMs: desc.stallMs,
            onProgress: (p) => port.post({ id, event: 'progress', phase: 'download', ...p }) });
        store = r.store;
        extra = { cached: r.cached, resumedFrom: r.resumedFrom, fetched: r.fetched };
    } else throw new ChordError('invalid_arg', `unknown store kind ${desc.kind}`);
    if (desc.pieceBytes) store.pieceBytes = desc.pieceBytes;
    if (desc.stallMs !== undefined) store.stallMs = desc.stallMs;
    await store.open();
    state.store = store;
    state.storeDesc = desc.kind === 'regions' ? { kind: 'regions', name: desc.name } : desc;
    if (store.regions) extra.regions = store.regions.length;
    return { kind: store.kind, name: store.name, size: store.size, sync: store.canReadSync, ...extra };
}

// The first `len` bytes (the GGUF header is parsed on the main thread, before the engine starts).
async function storeHead({ len }) {
    return state.store.read(0, Math.min(len, state.store.size));
}

// env.chord_host_read: a synchronous store read straight into wasm memory, on the engine thread.
function hostRead(off, dst) {
    const s = state.store;
    if (!s) return 4; // unsupported: no store behind the engine
    try {
        s.readSync(off, dst);
    } catch (e) {
        state.storeError = e instanceof ChordError ? e : new ChordError('io', `${s.kind} store: ${e?.message ?? e}`);
        return 2; // io
    }
    const p = state.progress;
    if (p) {
        p.loaded = Math.min(s.size, p.loaded + dst.length);
        const now = performance.now();
        if (now - p.last > 50 || p.loaded === s.size) {
            p.last = now;
            port.post({ id: p.id, event: 'progress', phase: 'load', loaded: p.loaded, total: s.size });
        }
    }
    return 0;
}

// The store's own error says which store, offset and length failed; the engine's says what it
// was reading.
function storeFailure(e) {
    const se = state.storeError;
    state.storeError = null;
    return se ? new ChordError(se.code, `${se.message} (${e?.message ?? e})`) : e;
}

// Paged weights with prefetch: the store moves to a helper worker (store_bridge.js) that reads
// the next layers straight into their slots while the engine computes (env.chord_host_read_async);
// the engine's demand reads go to the same helper. → { mode: 'async' } or { mode: 'on-demand',
// why } when this host cannot (then layers are read when acquired, on the engine thread).
async function moveStoreToHelper(paging) {
    const s = state.store;
    const canShare = typeof SharedArrayBuffer !== 'undefined' && typeof Atomics.waitAsync === 'function' && state.memoryShareable;
    if (!(paging.prefetch > 0)) {
        // Still a helper for Blob and Range stores when the host allows one: it reads each piece
        // into one reused buffer, where FileReaderSync and a synchronous XHR make one per read.
        if (canShare && !s.asyncStats && (s.kind === 'range' || (s.kind === 'blob' && typeof FileReaderSync !== 'undefined'))) {
            const d = state.storeDesc;
            const { BridgedStore } = await import('./store_bridge.js');
            state.store = await BridgedStore.create(s.kind === 'blob' ?
                { kind: 'blob', blob: d.blob, pieceBytes: d.pieceBytes, stallMs: d.stallMs } :
                { kind: 'range', url: d.url, headers: d.headers, pieceBytes: d.pieceBytes, stallMs: d.stallMs });
            s.close();
        }
        return { mode: 'on-demand', why: 'prefetch 0' };
    }
    if (!canShare)
        return { mode: 'on-demand', why: 'this host cannot share the engine memory with a store worker (SharedArrayBuffer, Atomics.waitAsync, crossOriginIsolated)' };
    const d = state.storeDesc;
    let desc, transfer = [];
    if (s.kind === 'regions') {
        const bufs = s.regions.map((r) => r.buffer);
        desc = { kind: 'regions', regions: bufs, name: s.name };
        transfer = bufs.filter((b) => b instanceof ArrayBuffer);
    } else if (s.kind === 'path') desc = { kind: 'path', path: d.path };
    else if (s.kind === 'range') desc = { kind: 'range', url: d.url, headers: d.headers };
    else if (s.kind === 'blob' && typeof FileReaderSync !== 'undefined') desc = { kind: 'blob', blob: d.blob };
    else if (s.kind === 'opfs') desc = { kind: 'opfs', url: d.url };
    else return { mode: 'on-demand', why: `the ${s.kind} store cannot move to a store worker on this host` };
    if (d.pieceBytes) desc.pieceBytes = d.pieceBytes;
    if (d.stallMs !== undefined) desc.stallMs = d.stallMs;
    const { BridgedStore } = await import('./store_bridge.js');
    // The OPFS sync handle is exclusive: the helper opens the file only after this one let go.
    if (s.kind === 'opfs') s.close();
    const b = await BridgedStore.create(desc, { transfer, memory: state.engine.memory });
    if (s.kind !== 'opfs') s.close();
    state.store = b;
    return { mode: 'async' };
}

// Opens the model from the store: through the engine's read import when the store reads
// synchronously here (the path paged weights use), else by streaming store.read() pieces into
// the model buffer. The resident policy holds every byte afterwards, so the store is closed.
// `paging` ({ residency, memoryBudget, cacheLayers, prefetch, policy }) opens the model with
// those settings; a paged model keeps its store open and reads layers from it while generating.
async function openHost({ id, nCtx, nBatch, paging }) {
    const s = state.store;
    if (!s) throw new ChordError('invalid_arg', 'openHost without a store');
    state.storeError = null;
    let keep = false;
    try {
        if (paging && !s.canReadSync)
            throw new ChordError('unsupported', `residency '${paging.residency}' needs a store with synchronous reads; ` +
                `the ${s.kind} store has none on this host`);
        if (s.canReadSync) {
            state.prefetch = paging ? await moveStoreToHelper(paging) : null;
            state.progress = { id, loaded: 0, last: 0 };
            try {
                state.model = state.engine.openHostModel(1, s.size, paging ?
                    { ...paging, nCtx: nCtx || 0, asyncReads: state.prefetch.mode === 'async' } : {});
            } finally { state.progress = null; }
            state.readMode = 'host';
            keep = state.model.cacheStats().policy !== 'resident';
        } else {
            const loader = state.engine.beginLoad(s.size);
            state.modelAddress = loader.ptr;
            try {
                // the next piece is read while this one is copied in (stores.js readPieces)
                await s.readPieces(0, s.size, (bytes) => {
                    loader.write(bytes);
                    port.post({ id, event: 'progress', phase: 'load', loaded: loader.offset, total: s.size });
                });
            } catch (e) { loader.abort(); throw e; }
            state.model = loader.finishLoad();
            state.readMode = 'copy';
        }
    } catch (e) {
        throw storeFailure(e);
    } finally {
        if (!keep) {
            (state.store ?? s).close();
            if (state.store !== s) s.close();
            state.store = null;
        }
    }
    state.nCtx = nCtx || 0;
    state.nBatch = nBatch || 0;
    return { ...modelInfo(), read_mode: state.readMode, cache: cacheStats(), prefetch: state.prefetch };
}

// The engine's counters plus, with async prefetch, the store worker's (async_reads, async_bytes,
// async_read_ms, async_failed, async_cancelled).
// The store's staging counters (store_staging_buffers, store_unpooled_bytes, store_pieces) come
// from the store worker's stats, or from the store on this thread.
function cacheStats() {
    const s = state.store, c = s?.counters;
    const own = c ? { store_staging_buffers: c.staging_buffers, store_unpooled_bytes: c.unpooled_bytes, store_pieces: c.pieces,
        store_reads_in_flight_max: c.reads_in_flight_max } : {};
    if (s?.kind === 'opfs') own.store_reopened = s.reopened;
    return { ...state.model.cacheStats(), ...own, ...(s?.asyncStats?.() ?? {}) };
}

// What a generation shows while it runs (the demo's live line): the layer cache counters and
// the wasm memory, read between two tokens (the engine is inside its token callback, idle).
function liveStats() {
    const hs = state.engine.heapStats();
    return { cache: cacheStats(), memoryBytes: hs.memoryBytes, heapUsed: hs.used };
}

// An OPFS store on this thread whose handle was closed under it (opfs.js: lost; the read that
// found it failed with io) is opened again here, before the next generate or preload: reads
// inside the engine are synchronous, so this is the first point where it can wait. (With async
// prefetch the store worker heals its own store, store_helper.js.) A copy that cannot be opened
// again fails the request with io.
async function healStore() {
    const st = state.store;
    if (st?.lost) await st.reopen();
}

function withStore(fn) {
    state.storeError = null;
    try { return fn(); } catch (e) { throw storeFailure(e); }
}

function abortLoad() {
    state.loader?.abort();
    state.loader = null;
}

function modelInfo() {
    const i = state.model.info;
    const hs = state.engine.heapStats();
    return { ...i, memory_bytes: hs.memoryBytes, max_memory_bytes: hs.maxMemoryBytes, heap_used: hs.used,
        model_address: state.modelAddress ?? null };
}

// The session is created lazily (first generate) so that a tokenizer-only user pays no KV cache.
function session() {
    if (!state.session) state.session = state.model.newSession({ nCtx: state.nCtx, nBatch: state.nBatch });
    return state.session;
}

// ---- generation ------------------------------------------------------------------------------

const yieldToEvents = () => new Promise((resolve) => {
    // A MessageChannel round trip yields to the event loop without setTimeout's 4 ms clamp.
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(0);
});

async function generate(req) {
    const { id, params, genId, lookahead } = req;
    const model = state.model;
    if (!model) throw new ChordError('invalid_arg', 'no model loaded');
    state.storeError = null;
    await healStore();
    const s = session();
    let ids, keep = 0;
    if (req.chat) {
        // model.chat: the template renders the whole conversation; the cache keeps what it
        // shares with the previous turn, so only the new tokens are prefilled.
        const text = model.chatRender(req.chat.conversation, req.chat.template);
        ids = model.chatTokenize(text);
        keep = Math.max(0, Math.min(s.commonPrefix(ids), ids.length - 1));
        s.truncate(keep);
        port.post({ id, event: 'rendered', text, reused: keep });
    } else {
        s.reset();
        ids = req.tokens ? Int32Array.from(req.tokens)
            : model.tokenize(req.prompt, { addSpecial: params.addSpecial ?? true, parseSpecial: params.parseSpecial ?? false });
    }
    port.post({ id, event: 'prompt', tokens: Array.from(ids), cancelIndex: state.cancelShared ? s.cancelWord.index : -1 });
    if (ids.length === 0) throw new ChordError('invalid_arg', 'the prompt has no tokens (empty text and no BOS token)');
    const sampler = state.engine.newSampler({
        temperature: params.temperature, topK: params.topK, topP: params.topP, minP: params.minP,
        repeatPenalty: params.repeatPenalty, repeatLastN: params.repeatLastN, seed: params.seed,
        ignoreEos: params.ignoreEos,
    });
    const maxTokens = params.maxTokens;
    const before = s.stats();
    const stats = () => statsSince(before, s.stats());
    // A cancel sent before the main thread knew the cancel word arrives as a message or in the
    // flow word: let it through before starting.
    await yieldToEvents();
    const cancelled = () => state.cancelledGen === genId || (state.flow && Atomics.load(state.flow, 1) === genId);
    try {
        if (cancelled()) return { status: 'cancelled', stats: stats() };
        // A long prompt takes seconds (a paged model reads every layer per batch): the live
        // counters go out after every layer of it too, not only after each token.
        s.feed(keep ? ids.subarray(keep) : ids, (p) => port.post({ id, event: 'live', live: { ...liveStats(), prefill: p } }));
        if (params.logitsTop > 0) port.post({ id, event: 'logits', top: topLogits(s.logits(), params.logitsTop) });
        if (state.cancelShared) {
            // The C loop (the native CLI's loop, so tokens match native); the main thread stops
            // it through the shared cancel word.
            const flow = state.flow;
            let emitted = 0;
            const r = s.generate(sampler, maxTokens, (token, text) => {
                port.post({ id, event: 'token', token, text, live: liveStats() });
                emitted++;
                // Wait while the consumer is more than `lookahead` tokens behind.
                for (;;) {
                    if (Atomics.load(flow, 1) === genId) return true;
                    const consumed = Atomics.load(flow, 0);
                    if (emitted - consumed <= lookahead) return false;
                    Atomics.wait(flow, 0, consumed, 100);
                }
            });
            return { status: r.status, stats: stats() };
        }
        state.acked = 0;
        // Per-token feeds count as prefill in the engine's counters: prefill is measured up to
        // here, decode by the loop itself.
        const st = statsSince(before, s.stats());
        const r = await stepLoop(id, genId, s, sampler, maxTokens, params, lookahead);
        st.n_decode = r.n;
        st.decode_ms = r.ms;
        st.decode_tok_s = r.ms > 0 ? r.n / (r.ms / 1000) : 0;
        st.peak_memory_bytes = s.stats().peak_memory_bytes;
        return { status: r.status, stats: st };
    } catch (e) {
        if (e?.code === 'cancelled') return { status: 'cancelled', stats: stats() };
        throw storeFailure(e);
    } finally {
        sampler.dispose();
    }
}

// The session's counters add up over its life; a generation reports its own share.
function statsSince(a, b) {
    const d = { ...b };
    for (const k of ['prefill_ms', 'decode_ms', 'n_prefill', 'n_decode']) d[k] = b[k] - a[k];
    d.prefill_tok_s = d.prefill_ms > 0 ? d.n_prefill / (d.prefill_ms / 1000) : 0;
    d.decode_tok_s = d.decode_ms > 0 ? d.n_decode / (d.decode_ms / 1000) : 0;
    return d;
}

// The k largest logits as [id, value] pairs, highest first (ties: lower id first), like the
// native CLI's --logits-top.
function topLogits(logits, k) {
    const idx = Array.from(logits.keys());
    idx.sort((a, b) => logits[b] - logits[a] || a - b);
    return idx.slice(0, Math.min(k, logits.length)).map((i) => [i, logits[i]]);
}

// Token by token with a yield between steps so that a 'cancel' message is seen. Mirrors the C
// generate loop: sample, stop on end-of-generation, stream the text, feed, repeat.
async function stepLoop(id, genId, s, sampler, maxTokens, params, lookahead) {
    const model = state.model;
    const detok = model.newDetok();
    let n = 0, ms = 0;
    const end = (status) => ({ status, n, ms });
    try {
        for (; n < maxTokens;) {
            await yieldToEvents();
            while (n - state.acked > lookahead && state.cancelledGen !== genId)
                await new Promise((r) => { state.onAck = r; });
            if (state.cancelledGen === genId) return end('cancelled');
            const t0 = performance.now();
            const token = s.sample(sampler);
            if (!params.ignoreEos && model.isEog(token)) break;
            port.post({ id, event: 'token', token, text: detok.push(token), live: liveStats() });
            n++;
            if (s.pos >= s.nCtx) return end('range');
            s.feed(Int32Array.of(token));
            ms += performance.now() - t0;
        }
        const rest = detok.flush();
        if (rest) port.post({ id, event: 'token', token: -1, text: rest });
        return end('ok');
    } finally {
        detok.dispose();
    }
}

// ---- dispatch ----------------------------------------------------------------------------------

const ops = {
    init,
    begin,
    chunk,
    finish,
    abortLoad,
    storeOpen,
    storeHead,
    openHost,
    plan: ({ head, size, nCtx, threads, nBatch }) => state.engine.memoryPlan(head, size, { nCtx, threads, nBatch }),
    tokenize: ({ text, addSpecial, parseSpecial }) => state.model.tokenize(text, { addSpecial, parseSpecial }),
    detokenize: ({ tokens }) => state.model.detokenize(Int32Array.from(tokens)),
    generate,
    info: () => modelInfo(),
    cacheStats: () => cacheStats(),
    preload: async () => { await healStore(); return withStore(() => state.model.preload()); },
    clearCache: () => state.model.clearCache(),
    dispose: () => {
        state.session?.dispose();
        state.model?.dispose();
        state.loader?.abort();
        state.store?.close();
        state.store = null;
        state.engine?.dispose();
        state.session = state.model = state.loader = state.engine = null;
    },
};

// Requests run one at a time, in arrival order, except 'cancel' which acts at once.
let queue = Promise.resolve();
port.on((msg) => {
    if (msg.op === 'cancel') {
        state.cancelledGen = msg.genId;
        state.onAck?.();
        return;
    }
    if (msg.op === 'ack') {
        state.acked = msg.consumed;
        const wake = state.onAck;
        state.onAck = null;
        wake?.();
        return;
    }
    queue = queue.then(async () => {
        try {
            const fn = ops[msg.op];
            if (!fn) throw new ChordError('invalid_arg', `unknown request ${msg.op}`);
            if (!['init', 'dispose', 'storeOpen', 'storeHead'].includes(msg.op) && !state.engine)
                throw new ChordError('invalid_arg', 'engine not initialised');
            const result = await fn(msg);
            if (result instanceof Reply) port.post({ id: msg.id, ok: true, result: result.result }, result.transfer);
            else port.post({ id: msg.id, ok: true, result });
        } catch (e) {
            port.post({ id: msg.id, ok: false, error: errorOut(e) });
        }
    });
});
port.post({ event: 'alive' });
