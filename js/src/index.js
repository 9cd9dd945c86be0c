// index.js — the public API of the wasm-chord package:
//
//   const model = await loadModel(source, { onProgress, threads, build, signal });
//   for await (const { token, text } of model.generate(prompt, { maxTokens, temperature, signal })) …
//   for await (const { text } of model.chat([{ role: 'user', content: 'Hi' }], { maxTokens })) …
//   await model.tokenize(text); await model.detokenize(ids); model.info; await model.dispose();
//
// Everything heavy runs in a worker (worker.js); this file streams the model bytes to it, picks the
// build and checks the memory budget first; model.js turns the worker's messages back into
// promises and async iterators. Flow of loadModel: open the source → read until the GGUF header is complete
// → start the worker with a wasm32 engine, which plans the memory from the header (C) → keep it,
// restart it as wasm64, or fail with ChordError 'nomem' (nothing large allocated yet) → reserve the model buffer
// in wasm memory → stream the rest of the file into it → the engine parses and opens the model.

import { ChordError } from './errors.js';
import { toSource, openSource, CHUNK_BYTES } from './sources.js';
import { tryParseHeader } from './gguf.js';
import { isNode, nodeMajor, sharedMemoryAvailable, defaultThreads, spawnWorker, resolveWasmBase } from './env.js';
import { RegionStore, REGION_MAX } from './stores.js';
import { Model } from './model.js';

export { ChordError };
export { cacheStatus, cacheDelete, cacheList } from './opfs.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const MAX_HEADER_BYTES = 256 * MiB;
// Staging buffers of a streamed load (each CHUNK_BYTES): one is being filled from the source
// while the others are in the worker being copied into wasm memory, then come back. They are
// the only buffers a load makes, so its memory besides the wasm memory is LOAD_WINDOW chunks.
const LOAD_WINDOW = 4;

/** Address-space limits of each build on this host (what the engine's memory may grow to). */
export function memoryLimits() {
    return {
        wasm32: 4 * GiB,
        // Chromium and Node >= 24 allow 16 GiB; Node 20/22 behind a flag only 4 GiB.
        wasm64: isNode && nodeMajor < 24 ? 4 * GiB : 16 * GiB,
    };
}

const gib = (n) => `${(n / GiB).toFixed(2)} GiB`;

// (module (memory i64 1)): validates only where the engine has Memory64.
const MEMORY64_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 4, 1]);
async function memory64Supported() {
    return WebAssembly.validate(MEMORY64_PROBE);
}

// The weightsAbove test hook puts the model buffer above that address: count the gap.
function placeAbove(plan, above) {
    if (!above) return;
    for (const k of ['wasm32', 'wasm64']) { plan[k].placement = above; plan[k].total += above; }
}

// The engine's memory plan for a header when no engine runs yet (store loads: the worker that
// holds the store cannot be re-initialised for another build): a one-thread wasm32 engine in a
// short-lived worker computes it.
async function planInWorker(wasmUrl, head, size, { nCtx, threads, nBatch, relaxed }) {
    const ch = new Channel(await spawnWorker(new URL('./worker.js', import.meta.url)));
    try {
        await ch.alive;
        await ch.call('init', { target: 'wasm32', wasmUrl, threads: 1, relaxed: relaxed ?? 'auto' });
        return await ch.call('plan', { head, size, nCtx, threads, nBatch });
    } finally {
        await ch.close().catch(() => {});
    }
}

/**
 * Picks 'wasm32' or 'wasm64' from the engine's memory plan ({ wasm32, wasm64 }: what each build
 * would allocate, computed by the C engine from the GGUF header — chord_memory_plan_header), or
 * throws ChordError before the model is loaded.
 */
export async function chooseBuild(build, plan) {
    const lim = memoryLimits();
    const m64 = await memory64Supported();
    const why = (need) => `the model needs about ${gib(need.total)} (weights ${gib(need.weights + need.fileCopy)} + ` +
        `KV cache ${gib(need.kvCache)} for ${need.nCtx} positions + scratch ${gib(need.scratch + need.model + need.fixed)})`;
    if (build === 'wasm32') {
        if (plan.wasm32.total > lim.wasm32)
            throw new ChordError('nomem', `${why(plan.wasm32)}, more than wasm32's ${gib(lim.wasm32)} address space; use build 'wasm64' or a smaller nCtx`);
        return 'wasm32';
    }
    if (build === 'wasm64') {
        if (!m64)
            throw new ChordError('unsupported', 'this JavaScript engine has no Memory64 (wasm64)' +
                (isNode ? '; on Node 20/22 run node with --experimental-wasm-memory64' : ''));
        if (plan.wasm64.total > lim.wasm64)
            throw new ChordError('nomem', `${why(plan.wasm64)}, more than wasm64's ${gib(lim.wasm64)} limit on this engine`);
        return 'wasm64';
    }
    if (plan.wasm32.total <= lim.wasm32) return 'wasm32';
    if (m64 && plan.wasm64.total <= lim.wasm64) return 'wasm64';
    throw new ChordError('nomem', `${why(plan.wasm64)}: too big for wasm32 (${gib(lim.wasm32)})` +
        (m64 ? ` and for wasm64 (${gib(lim.wasm64)} on this engine)` : ' and this engine has no Memory64'));
}

// ---- the worker channel ----------------------------------------------------------------------

class Channel {
    constructor(worker) {
        this.worker = worker;
        this.nextId = 1;
        this.pending = new Map();
        this.dead = null;
        worker.onMessage((m) => this.#onMessage(m));
        worker.onError((e) => this.#fail(new ChordError('worker', `engine worker failed: ${e.message}`)));
        this.alive = new Promise((resolve) => { this.#onAlive = resolve; });
    }
    #onAlive;
    #onMessage(m) {
        if (m.event === 'alive') return this.#onAlive();
        const p = this.pending.get(m.id);
        if (!p) return;
        if (m.event) return p.onEvent?.(m);
        this.pending.delete(m.id);
        if (this.pending.size === 0) this.worker.unref();
        if (m.ok) p.resolve(m.result);
        else p.reject(ChordError.from(m.error));
    }
    #fail(err) {
        if (this.dead) return;
        this.dead = err;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        this.#onAlive();
    }
    call(op, args = {}, transfer = [], onEvent = null) {
        if (this.dead) return Promise.reject(this.dead);
        const id = this.nextId++;
        return new Promise((resolve, reject) => {
            this.pending.set(id, { resolve, reject, onEvent });
            this.worker.ref();
            this.worker.post({ id, op, ...args }, transfer);
        });
    }
    send(op, args = {}) {
        if (!this.dead) this.worker.post({ id: 0, op, ...args });
    }
    // Rejects every call still waiting for its reply (queued in the worker or running).
    rejectAll(err) {
        const ps = [...this.pending.values()];
        this.pending.clear();
        for (const p of ps) p.reject(err);
    }
    async close() {
        const err = new ChordError('disposed', 'the model was disposed');
        this.rejectAll(err);
        if (!this.dead) {
            // Give the engine a moment to stop its thread workers; terminate regardless.
            let timer;
            await Promise.race([this.call('dispose').catch(() => {}), new Promise((r) => { timer = setTimeout(r, 2000); })]);
            clearTimeout(timer);
        }
        this.dead ??= err;
        this.rejectAll(this.dead);
        await this.worker.terminate();
    }
}

// ---- loading -----------------------------------------------------------------------------------

function concat(pieces, total) {
    if (pieces.length === 1) return new Uint8Array(pieces[0].buffer, 0, total);
    const out = new Uint8Array(total);
    let off = 0;
    for (const p of pieces) { out.set(new Uint8Array(p.buffer, 0, p.n), off); off += p.n; }
    return out;
}

// The staging buffers of a streamed load. take() hands out a free buffer, makes one while fewer
// than `limit` exist, and otherwise waits for one to come back from the worker (back()); so
// however many chunks a model has, at most `limit` buffers exist. take({ grow }) may exceed the
// limit (the header's buffers); such extra buffers are dropped when they come back. `made` and
// `maxInFlightBytes` are reported in model.info.load.
class StagingPool {
    constructor(chunkBytes, limit) {
        Object.assign(this, { chunkBytes, limit, free: [], waiting: [], live: 0, made: 0, inFlightBytes: 0,
            maxInFlightBytes: 0, chunks: 0, failure: null });
    }
    async take({ grow = false } = {}) {
        if (this.failure) throw this.failure;
        if (this.free.length) return this.free.pop();
        if (this.live < this.limit || grow) { this.live++; this.made++; return new ArrayBuffer(this.chunkBytes); }
        return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
    }
    // A chunk the worker could not take: its buffer never comes back, so nobody may wait for one.
    fail(e) {
        this.failure ??= e;
        for (const w of this.waiting.splice(0)) w.reject(e);
    }
    give(buffer) {
        const w = this.waiting.shift();
        if (w) w.resolve(buffer);
        else if (this.live > this.limit) this.live--; // dropped: the collector takes it
        else this.free.push(buffer);
    }
    sent(n) {
        this.chunks++;
        this.inFlightBytes += n;
        this.maxInFlightBytes = Math.max(this.maxInFlightBytes, this.inFlightBytes);
    }
    back(n, buffer) { this.inFlightBytes -= n; this.give(buffer); }
}

// Fills staging buffers until the GGUF header is complete → { header, head: [{ buffer, n }],
// bytes }. Re-parses only when the prefix has doubled, so a header spread over many chunks
// costs O(n) copying and at most twice its size in buffers. These buffers may exceed the pool's limit (a header larger than
// LOAD_WINDOW chunks); they are posted first and the extra ones dropped when they come back.
async function readHeader(rd, src, pool) {
    const head = [];
    let bytes = 0, nextTry = 0;
    for (;;) {
        if (!rd.ended) {
            const got = await rd.fill(await pool.take({ grow: true }));
            head.push(got);
            bytes += got.n;
            if (bytes < nextTry && !rd.ended) continue;
            nextTry = 2 * bytes;
        }
        const header = tryParseHeader(concat(head, bytes), rd.ended ? bytes : src.size);
        if (header) return { header, head, bytes };
        if (rd.ended) throw new ChordError('format', `GGUF: the file ends inside its header (${bytes} bytes)`);
        if (bytes > MAX_HEADER_BYTES)
            throw new ChordError('format', `GGUF: header larger than ${MAX_HEADER_BYTES} bytes`);
    }
}

function checkOptions(opts) {
    const build = opts.build ?? 'auto';
    if (!['auto', 'wasm32', 'wasm64'].includes(build))
        throw new ChordError('invalid_arg', `build must be 'auto', 'wasm32' or 'wasm64', got ${JSON.stringify(build)}`);
    if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1 && opts.threads <= 64))
        throw new ChordError('invalid_arg', `threads must be an integer in [1, 64], got ${opts.threads}`);
    for (const k of ['nCtx', 'nBatch'])
        if (opts[k] !== undefined && !(Number.isInteger(opts[k]) && opts[k] >= 0))
            throw new ChordError('invalid_arg', `${k} must be a non-negative integer, got ${opts[k]}`);
    if (opts.weightsAbove !== undefined && !(Number.isSafeInteger(opts.weightsAbove) && opts.weightsAbove >= 0))
        throw new ChordError('invalid_arg', `weightsAbove must be a non-negative byte count, got ${opts.weightsAbove}`);
    if (opts.residency !== undefined && !['auto', 'resident', 'paged'].includes(opts.residency))
        throw new ChordError('invalid_arg', `residency must be 'auto', 'resident' or 'paged', got ${JSON.stringify(opts.residency)}`);
    if (opts.cachePolicy !== undefined && !['pin', 'lru'].includes(opts.cachePolicy))
        throw new ChordError('invalid_arg', `cachePolicy must be 'pin' or 'lru', got ${JSON.stringify(opts.cachePolicy)}`);
    for (const k of ['cacheLayers', 'prefetch', 'memoryBudget'])
        if (opts[k] !== undefined && !(Number.isSafeInteger(opts[k]) && opts[k] >= 0))
            throw new ChordError('invalid_arg', `${k} must be a non-negative integer, got ${opts[k]}`);
    if (opts.store !== undefined && !STORE_KINDS.includes(opts.store))
        throw new ChordError('invalid_arg', `store must be one of ${STORE_KINDS.join(', ')}; got ${JSON.stringify(opts.store)}`);
    if (opts.regionBytes !== undefined && !(Number.isSafeInteger(opts.regionBytes) && opts.regionBytes > 0 && opts.regionBytes <= REGION_MAX))
        throw new ChordError('invalid_arg', `regionBytes must be an integer in [1, ${REGION_MAX}], got ${opts.regionBytes}`);
    if (opts.storePieceBytes !== undefined && !(Number.isSafeInteger(opts.storePieceBytes) && opts.storePieceBytes >= 4096 &&
        opts.storePieceBytes <= 256 * MiB))
        throw new ChordError('invalid_arg', `storePieceBytes must be an integer in [4096, ${256 * MiB}], got ${opts.storePieceBytes}`);
    if (opts.loadChunkBytes !== undefined && !(Number.isSafeInteger(opts.loadChunkBytes) && opts.loadChunkBytes >= 4096 &&
        opts.loadChunkBytes <= 256 * MiB))
        throw new ChordError('invalid_arg', `loadChunkBytes must be an integer in [4096, ${256 * MiB}], got ${opts.loadChunkBytes}`);
    if (opts.stallTimeoutMs !== undefined && !(Number.isSafeInteger(opts.stallTimeoutMs) && opts.stallTimeoutMs >= 0))
        throw new ChordError('invalid_arg', `stallTimeoutMs must be a non-negative integer (0: no limit), got ${opts.stallTimeoutMs}`);
    if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function')
        throw new ChordError('invalid_arg', 'onProgress must be a function');
    return build;
}

/**
 * Loads a GGUF model. `source`: URL string or URL, File/Blob, ArrayBuffer or typed array, or (Node)
 * a file path. Options: onProgress({ loaded, total }), threads, build ('auto' | 'wasm32' |
 * 'wasm64'), signal (AbortSignal), nCtx (context length; 0 = min(trained, 4096)), wasmBase (URL
 * or directory of the .wasm builds), relaxed (false to never use the relaxed-SIMD build),
 * weightsAbove (test hook: the model buffer starts at or above this wasm address; see
 * docs/MEMORY64.md), stallTimeoutMs (a read that brings no byte for this long fails the load, or
 * the generate of a paged model, with ChordError('io'); default 30 s for a File/Blob, 60 s for a
 * URL; 0: no limit).
 */
export async function loadModel(source, opts = {}) {
    const build = checkOptions(opts);
    const { signal, onProgress } = opts;
    const shared = sharedMemoryAvailable();
    let threads = opts.threads ?? await defaultThreads();
    if (!shared) threads = 1;
    const t0 = performance.now();
    if (opts.store !== undefined || (source && Array.isArray(source.regions)) || opts.residency === 'paged')
        return loadViaStore(source, opts, { build, threads, shared, t0 });

    const src = toSource(source, opts);
    let rd = null, channel = null;
    // Where a load's time goes (model.info.load.phases, ms): the header, the engine's start and
    // memory plan, reserving the model buffer, streaming the rest (of it: waiting for reads,
    // waiting for a staging buffer to come back from the worker, and the worker's copies into
    // wasm memory, which overlap the reads), and the engine parsing the model.
    const phases = { headerMs: 0, engineMs: 0, beginMs: 0, streamMs: 0, readMs: 0, waitMs: 0, copyMs: 0, finishMs: 0, totalMs: 0 };
    let tPhase = performance.now();
    const lap = (k) => { const now = performance.now(); phases[k] += now - tPhase; tPhase = now; };
    try {
        rd = await openSource(src, { signal, onProgress });
        const pool = new StagingPool(opts.loadChunkBytes ?? CHUNK_BYTES, LOAD_WINDOW);
        let { header, head, bytes } = await readHeader(rd, src, pool);
        // Unknown length (no Content-Length): the bytes must be counted before the buffer can be
        // reserved, so they are held here first (in more staging buffers than the pool's limit).
        while (src.size === null && !rd.ended) {
            const got = await rd.fill(await pool.take({ grow: true }));
            head.push(got);
            bytes += got.n;
        }
        const size = src.size ?? bytes;
        lap('headerMs');
        const wasmUrl = await resolveWasmBase(opts.wasmBase);
        const flow = shared ? new Int32Array(new SharedArrayBuffer(8)) : null;
        const start = async (target) => {
            channel = new Channel(await spawnWorker(new URL('./worker.js', import.meta.url)));
            await channel.alive;
            return channel.call('init', {
                target, wasmUrl, threads, relaxed: opts.relaxed ?? 'auto',
                maxMemoryBytes: opts.maxMemoryBytes, flow,
            });
        };
        // The engine plans its own memory from the header (one estimate, in C); a wasm32 engine
        // is started first and replaced only when the plan needs wasm64.
        let init = await start(build === 'wasm64' ? 'wasm64' : 'wasm32');
        const plan = await channel.call('plan', { head: concat(head, bytes).slice(), size, nCtx: opts.nCtx ?? 0, threads,
            nBatch: opts.nBatch ?? 0 });
        placeAbove(plan, opts.weightsAbove);
        // residency 'auto': a model that no build can hold resident, or that exceeds
        // memoryBudget, is paged from a store over the same source (re-opened).
        let target;
        try {
            target = await chooseBuild(build, plan);
            if (opts.memoryBudget && plan[target].total > opts.memoryBudget && !opts.weightsAbove)
                throw new ChordError('nomem', `resident needs ${plan[target].total} bytes, over memoryBudget ${opts.memoryBudget}`);
        } catch (e) {
            if (e?.code !== 'nomem' || (opts.residency ?? 'auto') !== 'auto' || opts.weightsAbove || !pageable(source)) throw e;
            rd.close();
            rd = null;
            await channel.close().catch(() => {});
            channel = null;
            return loadViaStore(source, opts, { build, threads, shared, t0 });
        }
        if (target !== init.build) {
            await channel.close().catch(() => {});
            channel = null;
            init = await start(target);
        }
        const need = plan[target];
        if (signal?.aborted) throw new ChordError('cancelled', 'model load aborted');
        lap('engineMs');
        await channel.call('begin', { size, weightsAbove: opts.weightsAbove ?? 0 });
        lap('beginMs');
        const tStream = tPhase;

        // Stream: the header's buffers first, then the rest. Each staging buffer is transferred
        // to the worker, copied into wasm memory there and transferred back to be filled again.
        const inflight = [];
        const post = (buffer, n) => {
            pool.sent(n);
            const p = channel.call('chunk', { buffer, n }, [buffer]).then((r) => {
                phases.copyMs += r.copyMs;
                pool.back(n, r.buffer);
            }, (e) => { pool.fail(e); throw e; });
            p.catch(() => {}); // awaited below; this only keeps a failure from being "unhandled"
            inflight.push(p);
        };
        for (const h of head) post(h.buffer, h.n);
        head = null;
        // A File/Blob reader takes several fills at once (rd.parallel, sources.js): the next
        // reads run while the previous chunks are read and copied. One buffer always stays out of
        // the reads, so the pool never waits for a buffer that only a later read could free.
        const depth = Math.max(1, Math.min(rd.parallel, pool.limit - 1));
        const fills = [];
        const more = () => !rd.ended && rd.claimed < size;
        while (more() || fills.length) {
            while (more() && fills.length < depth) {
                const t = performance.now();
                const buffer = await pool.take();
                phases.waitMs += performance.now() - t;
                const f = rd.fill(buffer);
                f.catch(() => {}); // awaited below, in order
                fills.push(f);
            }
            const t = performance.now();
            const { buffer, n } = await fills.shift();
            phases.readMs += performance.now() - t;
            if (n > 0) post(buffer, n); else pool.give(buffer);
            // a failed copy (the worker's error) ends the load here, not after the last chunk
            while (inflight.length > LOAD_WINDOW) await inflight.shift();
        }
        {
            const t = performance.now();
            await Promise.all(inflight);
            phases.waitMs += performance.now() - t;
        }
        phases.streamMs = performance.now() - tStream;
        tPhase = performance.now();
        if (signal?.aborted) throw new ChordError('cancelled', 'model load aborted');
        const info = await channel.call('finish', { nCtx: need.nCtx, nBatch: opts.nBatch ?? 0 });
        lap('finishMs');
        phases.totalMs = performance.now() - t0;
        for (const k of Object.keys(phases)) phases[k] = Math.round(phases[k] * 10) / 10;
        const tpl = header.meta['tokenizer.chat_template'];
        const load = { chunks: pool.chunks, chunkBytes: pool.chunkBytes, stagingBuffers: pool.made,
            stagingBytes: pool.chunkBytes * pool.made, maxInFlightBytes: pool.maxInFlightBytes, byob: rd.byob,
            unpooledBytes: rd.unpooledBytes, readsInFlight: depth, stallRetries: rd.stallRetries, phases };
        rd.close();
        rd = null;
        return new Model(channel, info, { init, need, flow, loadMs: performance.now() - t0, source: src,
            chatTemplate: typeof tpl === 'string' ? tpl : null, load });
    } catch (e) {
        rd?.close();
        if (channel) await channel.close().catch(() => {});
        if (signal?.aborted && !(e instanceof ChordError && e.code !== 'internal'))
            throw new ChordError('cancelled', 'model load aborted');
        throw ChordError.from(e);
    }
}

// ---- loading through a host store (stores.js, opfs.js) ------------------------------------------
//
// opts.store picks where the engine's read import finds the bytes: 'regions' (ArrayBuffers of at
// most regionBytes, filled once from any source, or given as { regions: [ArrayBuffer…] }, which
// are transferred), 'blob' (a File/Blob read by slices), 'opfs' (a URL downloaded once into the
// Origin Private File System, resumable, then read from there with no network), 'range' (a URL
// read by HTTP Range requests), 'path' (Node: positioned reads of a file). The worker opens the
// store, the header is parsed here from its first bytes, the build is picked from the engine's
// memory plan (computed by a short-lived wasm32 engine), and the engine then reads the model through the store.

const STORE_KINDS = ['regions', 'blob', 'opfs', 'range', 'path'];

function absoluteUrl(source) {
    const s = source instanceof URL ? source.href : source;
    if (typeof s !== 'string') return null;
    if (/^[a-z][a-z0-9+.-]*:/i.test(s)) return s;
    return globalThis.location ? new URL(s, globalThis.location.href).href : null;
}

// Sources a paged load can re-open through a store (a one-shot stream could not be).
function pageable(source) {
    if (typeof Blob !== 'undefined' && source instanceof Blob) return typeof FileReaderSync !== 'undefined';
    if (typeof source === 'string' || source instanceof URL) return true;
    return source instanceof ArrayBuffer || ArrayBuffer.isView(source);
}

// The store a paged load reads from when none is named: the source's own kind.
function defaultStore(source) {
    if (typeof Blob !== 'undefined' && source instanceof Blob) return 'blob';
    if (typeof source === 'string' || source instanceof URL) {
        const s = source instanceof URL ? source.href : source;
        return isNode && !/^(https?|blob|data):/i.test(s) ? 'path' : 'range';
    }
    return 'regions';
}

/**
 * The build and residency of a store load, in the order: wasm32 resident → wasm64
 * resident → paged (wasm32 unless build 'wasm64') → the engine's own 'nomem' naming the numbers
 * when not even two slots fit. residency 'paged' / 'resident' skip the choice; memoryBudget
 * (bytes) caps what resident may use. → { target, paging } (paging null = resident as today).
 */
async function choosePath(build, plan, opts) {
    const residency = opts.residency ?? 'auto';
    const paging = (why) => ({ residency: 'paged', memoryBudget: opts.memoryBudget ?? 0, cacheLayers: opts.cacheLayers ?? 0,
        prefetch: opts.prefetch ?? 1, policy: opts.cachePolicy ?? 'pin', why });
    const pagedTarget = build === 'wasm64' ? 'wasm64' : 'wasm32';
    if (residency === 'paged') return { target: pagedTarget, paging: paging('residency paged was asked for') };
    let target;
    try {
        target = await chooseBuild(build, plan);
    } catch (e) {
        if (residency !== 'auto' || e.code !== 'nomem') throw e;
        return { target: pagedTarget, paging: paging(`resident does not fit: ${e.message}`) };
    }
    if (residency === 'auto' && opts.memoryBudget && plan[target].total > opts.memoryBudget)
        return { target: pagedTarget, paging: paging(`resident needs ${plan[target].total} bytes, over memoryBudget ${opts.memoryBudget}`) };
    return { target, paging: null };
}

async function storeDescriptor(source, opts) {
    const kind = opts.store ?? defaultStore(source);
    const bad = (what) => new ChordError('invalid_arg', `store '${kind}' needs ${what}`);
    if (kind === 'regions') {
        if (source && Array.isArray(source.regions)) {
            const regions = source.regions;
            new RegionStore(regions); // validates before anything starts
            const transfer = regions.filter((r) => r instanceof ArrayBuffer);
            return { desc: { kind, regions, name: source.name ?? 'regions' }, transfer };
        }
        const src = toSource(source, opts);
        const rd = await openSource(src, { signal: opts.signal, onProgress: opts.onProgress && ((p) => opts.onProgress({ ...p, phase: 'download' })) });
        let store;
        try {
            store = await RegionStore.fromReader(rd, src.size, { regionBytes: opts.regionBytes ?? 2 ** 30, name: src.name });
        } finally { rd.close(); }
        const regions = store.regions.map((r) => r.buffer);
        return { desc: { kind, regions, name: src.name }, transfer: regions };
    }
    if (kind === 'blob') {
        if (!(typeof Blob !== 'undefined' && source instanceof Blob)) throw bad('a File or Blob');
        return { desc: { kind, blob: source }, transfer: [] };
    }
    if (kind === 'path') {
        if (!isNode) throw new ChordError('unsupported', "store 'path' exists only in Node");
        if (typeof source !== 'string' && !(source instanceof URL)) throw bad('a file path');
        const path = await import('node:path');
        const { fileURLToPath } = await import('node:url');
        const p = source instanceof URL || /^file:/i.test(source) ? fileURLToPath(source) : path.resolve(source);
        return { desc: { kind, path: p }, transfer: [] };
    }
    const url = absoluteUrl(source);
    if (!url || !/^https?:|^blob:/i.test(url)) throw bad('an http(s) URL');
    if (kind === 'opfs' && isNode) throw new ChordError('unsupported', "store 'opfs' needs a browser (Origin Private File System)");
    return { desc: { kind, url, headers: opts.headers }, transfer: [] };
}

async function loadViaStore(source, opts, { build, threads, shared, t0 }) {
    const { signal, onProgress } = opts;
    let channel = null, pagingWhy = null;
    let onAbort = null;
    const aborted = new Promise((_, reject) => {
        onAbort = () => reject(new ChordError('cancelled', 'model load aborted'));
        signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {});
    const step = (p) => Promise.race([p, aborted]);
    const progress = (ev) => { if (ev.event === 'progress') onProgress?.({ loaded: ev.loaded, total: ev.total, phase: ev.phase }); };
    try {
        if (signal?.aborted) throw new ChordError('cancelled', 'model load aborted');
        const { desc, transfer } = await step(storeDescriptor(source, opts));
        // the largest single read of a Blob/Range store (default 16 MiB; a tuning and test knob)
        if (opts.storePieceBytes) desc.pieceBytes = opts.storePieceBytes;
        if (opts.stallTimeoutMs !== undefined) desc.stallMs = opts.stallTimeoutMs;
        channel = new Channel(await spawnWorker(new URL('./worker.js', import.meta.url)));
        await step(channel.alive);
        const opened = await step(channel.call('storeOpen', { desc }, transfer, progress));
        let header = null, head = null;
        for (let len = 1 << 20; !header; len *= 4) {
            head = await step(channel.call('storeHead', { len }));
            header = tryParseHeader(head, opened.size);
            if (!header && head.byteLength >= opened.size)
                throw new ChordError('format', `GGUF: the file ends inside its header (${opened.size} bytes)`);
            if (!header && len > MAX_HEADER_BYTES) throw new ChordError('format', `GGUF: header larger than ${MAX_HEADER_BYTES} bytes`);
        }
        const wasmUrl = await resolveWasmBase(opts.wasmBase);
        const plan = await step(planInWorker(wasmUrl, head, opened.size,
            { nCtx: opts.nCtx ?? 0, threads, nBatch: opts.nBatch ?? 0, relaxed: opts.relaxed }));
        const { target, paging } = await choosePath(build, plan, opts);
        if (paging && opts.residency !== 'paged') pagingWhy = paging.why;
        const need = plan[target];
        const flow = shared ? new Int32Array(new SharedArrayBuffer(8)) : null;
        const init = await step(channel.call('init', { target, wasmUrl, threads, relaxed: opts.relaxed ?? 'auto',
            maxMemoryBytes: opts.maxMemoryBytes, flow }));
        const info = await step(channel.call('openHost', { nCtx: need.nCtx, nBatch: opts.nBatch ?? 0, paging }, [], progress));
        const tpl = header.meta['tokenizer.chat_template'];
        return new Model(channel, info, { init, need, flow, loadMs: performance.now() - t0,
            source: { kind: opened.kind, name: opened.name }, chatTemplate: typeof tpl === 'string' ? tpl : null,
            store: { kind: opened.kind, read: info.read_mode, regions: opened.regions ?? null, cached: opened.cached ?? null,
                resumedFrom: opened.resumedFrom ?? null, fetched: opened.fetched ?? null },
            path: { residency: info.cache?.policy === 'resident' || !info.cache ? 'resident' : 'paged', why: paging?.why ?? null,
                // paged: 'async' (a store worker fills the next layers' slots while one computes)
                // or 'on-demand' (layers read when needed; prefetchWhy says why)
                prefetch: info.prefetch?.mode ?? null, prefetchWhy: info.prefetch?.why ?? null } });
    } catch (e) {
        if (channel) await channel.close().catch(() => {});
        // Paging was the fallback for a resident plan that did not fit: say why both failed.
        if (e?.code === 'nomem' && pagingWhy) throw new ChordError('nomem', `${pagingWhy}; ${e.message}`);
        throw ChordError.from(e);
    } finally {
        signal?.removeEventListener('abort', onAbort);
    }
}

export { Model };
