// core.js — the low-level engine object over one wasm-chord build (docs/WASM_ABI.md). Works in
// browsers and Node (ESM). It owns the shared WebAssembly.Memory, the first module instance,
// the thread Workers (each one more instance on the same memory with its own stack and TLS),
// and wraps the flat chord_wasm_* exports in small objects: loader, model, session, sampler.
//
// Pointers: wasm32 exports take/return i32 (JS Numbers, possibly negative above 2 GiB — we
// normalise with >>> 0); wasm64 exports take/return i64 BigInts. `P()` and `N()` convert, so
// the rest of this file, and callers, only see Numbers.

import { ChordError } from './errors.js';

export { ChordError };

const STATUS = ['ok', 'invalid_arg', 'io', 'format', 'unsupported', 'nomem', 'range', 'not_found',
    'type', 'cancelled', 'internal', 'buffer'];
const BUFFER = STATUS.indexOf('buffer');
const PAGE = 65536;
const STACK_BYTES = 1 << 20;
const isNode = typeof process !== 'undefined' && !!process.versions?.node &&
    typeof globalThis.window === 'undefined' && typeof globalThis.WorkerGlobalScope === 'undefined';

// ---- feature probes --------------------------------------------------------------------------

// (func (result v128) (i8x16.relaxed_swizzle (v128.const 0) (v128.const 0)))
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
    10, 43, 1, 41, 0, 253, 12, ...new Array(16).fill(0), 253, 12, ...new Array(16).fill(0), 253, 128, 2, 11]);
// (memory i64 1)
const MEMORY64_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 4, 1]);

function validates(bytes) {
    try { return WebAssembly.validate(bytes); } catch { return false; }
}
export function relaxedSimdSupported() { return validates(RELAXED_PROBE); }
export function memory64Supported() { return validates(MEMORY64_PROBE); }

// Relaxed SIMD in this engine, turning it on where it is behind a flag: Node 20 (V8 11.3) has it
// behind --experimental-wasm-relaxed-simd, and V8 reads its wasm feature flags at each compile,
// so setting the flag at run time (node:v8, process-wide, also from a worker thread) enables it
// for this process. Our relaxed builds avoid the one relaxed instruction V8 11.3 gets wrong
// (i32x4.relaxed_dot_i8x16_i7x16_add in its baseline compiler, src/quant/simd128_relaxed.h) and
// give the native tokens under Node 20 (tests/t_wasm.sh). Browsers: validation only.
export async function enableRelaxedSimd() {
    if (relaxedSimdSupported()) return true;
    if (!isNode) return false;
    try {
        (await import('node:v8')).setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch { return false; }
    return relaxedSimdSupported();
}

// Which file runs a target: relaxed where this engine validates it (after enableRelaxedSimd
// under Node 20), unless relaxed is false. Both targets have a relaxed variant: the same code
// with f32x4.relaxed_madd and the relaxed integer dots.
export function pickBuild({ relaxed = 'auto', target = 'wasm32' } = {}) {
    if (target !== 'wasm32' && target !== 'wasm64')
        throw new ChordError('invalid_arg', `target must be 'wasm32' or 'wasm64', got ${JSON.stringify(target)}`);
    const useRelaxed = relaxed === true || (relaxed === 'auto' && relaxedSimdSupported());
    return `chord-${target}${useRelaxed ? '-relaxed' : ''}.wasm`;
}

// ---- loading the module ----------------------------------------------------------------------

async function readBytes(src) {
    if (src instanceof ArrayBuffer) return new Uint8Array(src);
    if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    const s = String(src instanceof URL ? src.href : src);
    if (isNode && !/^(https?|data|blob):/.test(s)) {
        const fs = await import('node:fs/promises');
        return new Uint8Array(await fs.readFile(s.startsWith('file:') ? new URL(s) : s));
    }
    const r = await fetch(s);
    if (!r.ok) throw new ChordError('io', `cannot fetch ${s}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
}

// The memory import's limits flags say whether a build is wasm64 (flag 0x04). Reads the import
// section only; null when the bytes do not have a memory import.
export function detectTarget(bytes) {
    let p = 8;
    const u32 = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
    while (p < bytes.length) {
        const id = bytes[p++], size = u32(), end = p + size;
        if (id === 2) {
            const n = u32();
            for (let i = 0; i < n; i++) {
                for (let k = 0; k < 2; k++) { const l = u32(); p += l; } // module, name
                const kind = bytes[p++];
                if (kind === 0) u32();
                else if (kind === 1) { p++; const f = bytes[p++]; u32(); if (f & 1) u32(); }
                else if (kind === 2) return bytes[p] & 4 ? 'wasm64' : 'wasm32';
                else if (kind === 3) p += 2;
                else return null;
            }
            return null;
        }
        p = end;
    }
    return null;
}

async function compileModule(wasm) {
    if (wasm instanceof WebAssembly.Module) return { module: wasm, target: null };
    const bytes = await readBytes(wasm);
    const target = detectTarget(bytes);
    // A relaxed build under Node 20 compiles once V8's flag is on (enableRelaxedSimd): retried
    // only after a failed compile, so no start-up pays for an extra validation of the module.
    const compile = async () => ({ module: await WebAssembly.compile(bytes), target });
    try {
        return await compile();
    } catch (e) {
        if (isNode && !relaxedSimdSupported() && await enableRelaxedSimd()) {
            try { return await compile(); } catch { /* report the first error */ }
        }
        const hint = target === 'wasm64' ? (isNode ? ' (Memory64: node 20 needs --experimental-wasm-memory64)' : ' (this engine lacks Memory64)') : '';
        throw new ChordError('unsupported', `cannot compile the ${target ?? 'wasm'} build: ${e.message}${hint}`);
    }
}

function makeMemory(target, initialPages, maxBytes) {
    const maxPages = Math.floor(maxBytes / PAGE);
    if (target === 'wasm32')
        return new WebAssembly.Memory({ initial: initialPages, maximum: Math.min(maxPages, 65536), shared: true });
    // Memory64: the standard descriptor (Chromium ≥ 133) takes BigInts under `address`; node 20
    // (behind --experimental-wasm-memory64) takes Numbers under `index`.
    const tries = [
        () => new WebAssembly.Memory({ address: 'i64', initial: BigInt(initialPages), maximum: BigInt(maxPages), shared: true }),
        () => new WebAssembly.Memory({ index: 'i64', initial: initialPages, maximum: Math.min(maxPages, 65536), shared: true }),
    ];
    const out = [];
    for (const t of tries) { try { out.push(t()); } catch { /* next form */ } }
    return out;
}

function hostImports(state) {
    const now = typeof performance !== 'undefined' ? () => performance.now() : () => Date.now();
    return {
        chord_host_now_ms: now,
        chord_host_read: (handle, off, dst, len) => state.hostRead(handle, off, dst, len),
        chord_host_read_async: (handle, off, dst, len, st) => state.hostReadAsync(handle, off, dst, len, st),
        chord_host_drain: (handle) => state.hostDrain(handle),
        chord_host_token: (user, token, text, len) => state.onToken(user, token, text, len),
        chord_host_progress: (done, batch, total, layer, nLayer) => state.onProgress(done, batch, total, layer, nLayer),
    };
}

// ---- the engine ------------------------------------------------------------------------------

// chord_wasm_set_tuning's bits, by name (src/quant/quant.h)
const TUNING = ['rolled-k45'];
function defaultTuning() {
    const v8Major = isNode ? Number(String(process.versions.v8 ?? '').split('.')[0]) : 0;
    return v8Major && v8Major < 12 ? 1 : 0;
}

export async function createEngine(opts = {}) {
    const { module, target: detected } = await compileModule(opts.wasm);
    const wasmName = typeof opts.wasm === 'string' ? opts.wasm : (opts.wasm instanceof URL ? opts.wasm.href : '');
    let target = detected ?? opts.target ?? (/wasm64/.test(wasmName) ? 'wasm64' : (wasmName ? 'wasm32' : null));
    if (opts.target && detected && opts.target !== detected)
        throw new ChordError('invalid_arg', `the build is ${detected}, not ${opts.target}`);
    const state = {
        hostRead: () => STATUS.indexOf('unsupported'),
        hostReadAsync: () => STATUS.indexOf('unsupported'),
        hostDrain: () => {},
        onToken: () => 1,
        onProgress: () => {},
    };
    const env = hostImports(state);
    const initialPages = 64;
    let instance = null, memory = null, maxMemoryBytes = 0;
    const targets = target ? [target] : ['wasm32', 'wasm64'];
    let lastErr = null;
    for (const t of targets) {
        const defMax = t === 'wasm32' ? 4 * 2 ** 30 : 16 * 2 ** 30;
        const candidates = t === 'wasm32' ? [[makeMemory(t, initialPages, opts.maxMemoryBytes ?? defMax), opts.maxMemoryBytes ?? defMax]]
            : [16 * 2 ** 30, 4 * 2 ** 30].filter((m) => !opts.maxMemoryBytes || m >= opts.maxMemoryBytes)
                .map((m) => opts.maxMemoryBytes ?? m).flatMap((m) => makeMemory(t, initialPages, m).map((mem) => [mem, m]));
        for (const [mem, max] of candidates) {
            try {
                instance = await WebAssembly.instantiate(module, { env: { memory: mem, ...env } });
                memory = mem;
                target = t;
                maxMemoryBytes = max;
                break;
            } catch (e) { lastErr = e; }
        }
        if (instance) break;
    }
    if (!instance) {
        throw new ChordError('unsupported', `cannot instantiate the wasm build (${target ?? 'auto'}): ${lastErr?.message ?? 'no memory'}` +
            (target === 'wasm64' && isNode ? ' (node 20 needs --experimental-wasm-memory64)' : ''));
    }
    const engine = new Engine(module, instance, memory, target, maxMemoryBytes, state, opts);
    await engine._startThreads(Math.max(1, opts.threads ?? 1));
    return engine;
}

class Engine {
    constructor(module, instance, memory, target, maxMemoryBytes, state, opts) {
        this.module = module;
        this.instance = instance;
        this.x = instance.exports;
        this.memory = memory;
        this.target = target;
        this.maxMemoryBytes = maxMemoryBytes;
        this._state = state;
        this._workers = [];
        this._disposed = false;
        this.is64 = target === 'wasm64';
        this.P = this.is64 ? (v) => BigInt(v) : (v) => v;
        this.N = this.is64 ? (v) => Number(v) : (v) => v >>> 0;
        if (opts.hostRead) {
            state.hostRead = (handle, off, dst, len) => {
                try {
                    const view = new Uint8Array(this.memory.buffer, this.N(dst), Number(len));
                    return opts.hostRead(handle, Number(off), view) | 0;
                } catch { return STATUS.indexOf('io'); }
            };
        }
        if (opts.hostReadAsync) {
            // Starts a read of len bytes at off into wasm memory at dst; the host writes them from
            // another thread and moves the i32 state word at stateAddr (chord.h, read_async).
            state.hostReadAsync = (handle, off, dst, len, st) => {
                try {
                    return opts.hostReadAsync(handle, Number(off), this.N(dst), Number(len), this.N(st)) | 0;
                } catch { return STATUS.indexOf('io'); }
            };
            // Must return only once the host touches none of those reads' memory again.
            state.hostDrain = (handle) => opts.hostDrain(handle);
        }
        state.onToken = (user, token, text, len) => this._onToken(token, this._str(this.N(text), Number(len)));
        this._onToken = () => true;
        state.onProgress = (done, batch, total, layer, nLayer) => this._onProgress(done, batch, total, layer, nLayer);
        this._onProgress = () => {};
        this.buildInfo = JSON.parse(this._cstr(this.N(this.x.chord_wasm_build_info())));
        // Kernel shapes for this engine, the same results (quant.h, chord_simd128_set_tuning):
        // opts.tuning, else Node 20's V8 11 gets the rolled Q4_K/Q5_K decode loop (Q4_K_M decode
        // +13% there; Chromium runs the relaxed build's unrolled one faster). Before any model.
        const bits = opts.tuning ?? defaultTuning();
        if (!Number.isInteger(bits) || bits < 0 || bits >= 1 << TUNING.length)
            throw new ChordError('unsupported', `tuning ${JSON.stringify(opts.tuning)}: known bits are ${TUNING.map((n, i) => `${1 << i} (${n})`).join(', ')}`);
        const applied = this.x.chord_wasm_set_tuning ? this.x.chord_wasm_set_tuning(bits) : 0;
        this.buildInfo.tuning = TUNING.filter((_, i) => applied & (1 << i));
    }

    get threads() { return 1 + this.x.chord_wasm_threads_ready(); }

    // ---- memory helpers
    _u8(ptr, len) { return new Uint8Array(this.memory.buffer, ptr, len); }
    _str(ptr, len) {
        if (!len) return '';
        const copy = new Uint8Array(len);
        copy.set(this._u8(ptr, len));
        return new TextDecoder().decode(copy);
    }
    // Views stay small: a Uint8Array over a whole memory above 4 GiB is not portable (node 20
    // caps typed arrays at 2^32 elements).
    _cstr(ptr) {
        const buf = this.memory.buffer;
        for (let span = 4096; ; span *= 4) {
            const len = Math.min(span, buf.byteLength - ptr);
            const end = new Uint8Array(buf, ptr, len).indexOf(0);
            if (end >= 0) return this._str(ptr, end);
            if (len < span) return this._str(ptr, len);
        }
    }
    _alloc(n) {
        const p = this.N(this.x.chord_wasm_alloc(this.P(n)));
        if (!p) throw this._error();
        return p;
    }
    _free(p) { if (p) this.x.chord_wasm_free(this.P(p)); }
    _error() {
        const code = this.x.chord_wasm_last_error_code();
        const msg = this._cstr(this.N(this.x.chord_wasm_last_error_message()));
        const e = new ChordError(STATUS[code] ?? 'internal', msg || STATUS[code] || 'error');
        e.status = code;
        return e;
    }
    _check(status) { if (status !== 0) throw this._error(); }
    _live() { if (this._disposed) throw new ChordError('invalid_arg', 'the engine is disposed'); }
    _putBytes(bytes) {
        const p = this._alloc(Math.max(1, bytes.length));
        this._u8(p, bytes.length).set(bytes);
        return p;
    }

    // The engine's memory plan (chord_memory_plan_header) of a GGUF from its first bytes, for
    // wasm32 and wasm64: { wasm32: { weights, fileCopy, model, kvCache, scratch, fixed, total, nCtx }, wasm64 }.
    memoryPlan(head, fileSize, { nCtx = 0, threads = 1, nBatch = 0 } = {}) {
        this._live();
        const p = this._putBytes(head);
        try {
            const r = this.N(this.x.chord_wasm_memory_plan(this.P(p), this.P(head.length), BigInt(fileSize), nCtx | 0,
                threads | 0, nBatch | 0));
            if (!r) throw this._error();
            const raw = JSON.parse(this._cstr(r));
            const conv = (q) => ({ nCtx: q.n_ctx, weights: q.weights, fileCopy: q.file_copy, model: q.model,
                kvCache: q.kv_cache, scratch: q.scratch, fixed: q.fixed, total: q.total });
            return { wasm32: conv(raw.wasm32), wasm64: conv(raw.wasm64) };
        } finally { this._free(p); }
    }

    heapStats() {
        const h = JSON.parse(this._cstr(this.N(this.x.chord_wasm_heap_stats())));
        h.free = h.memoryBytes - h.used;
        h.maxMemoryBytes = this.maxMemoryBytes;
        return h;
    }

    // ---- threads
    async _startThreads(n) {
        if (n <= 1) return;
        if (typeof SharedArrayBuffer === 'undefined' || !(this.memory.buffer instanceof SharedArrayBuffer))
            throw new ChordError('unsupported', 'threads need SharedArrayBuffer (crossOriginIsolated)');
        const tlsSize = Number(this.x.__tls_size.value), tlsAlign = Number(this.x.__tls_align.value);
        const url = new URL('./thread_worker.js', import.meta.url);
        const ready = [];
        for (let ith = 1; ith < n; ith++) {
            const stack = this.N(this.x.chord_wasm_alloc_aligned(this.P(STACK_BYTES), this.P(16)));
            const tls = this.N(this.x.chord_wasm_alloc_aligned(this.P(Math.max(tlsSize, 16)), this.P(Math.max(tlsAlign, 16))));
            if (!stack || !tls) throw this._error();
            const msg = { module: this.module, memory: this.memory, is64: this.is64, stackTop: stack + STACK_BYTES, tls, ith };
            let w;
            if (isNode) {
                const { Worker } = await import('node:worker_threads');
                w = new Worker(url);
                w.unref();
                ready.push(new Promise((res, rej) => {
                    w.on('message', (m) => { if (m === 'ready') res(); });
                    w.on('error', rej);
                }));
            } else {
                w = new Worker(url, { type: 'module' });
                ready.push(new Promise((res, rej) => {
                    w.onmessage = (e) => { if (e.data === 'ready') res(); };
                    w.onerror = (e) => rej(new ChordError('internal', `thread worker failed: ${e.message}`));
                }));
            }
            w.postMessage(msg);
            this._workers.push(w);
        }
        await Promise.all(ready);
        // 'ready' is posted right before chord_wasm_worker_main; wait until all are inside it.
        const t0 = Date.now();
        while (this.x.chord_wasm_threads_ready() < n - 1) {
            if (Date.now() - t0 > 10000) throw new ChordError('internal', 'thread workers did not start');
            await new Promise((r) => setTimeout(r, 1));
        }
    }

    dispose() {
        if (this._disposed) return;
        this._disposed = true;
        this.x.chord_wasm_threads_stop();
        for (const w of this._workers) w.terminate();
        this._workers = [];
    }

    // ---- loading
    // `minAddress` (test hook, documented in docs/MEMORY64.md): the model buffer starts at or
    // above this wasm address. A spacer allocation fills the heap up to it and is freed once the
    // buffer is placed, so later allocations (KV cache, scratch) reuse the space below; only
    // the untouched spacer pages are committed as address space. It lets a small model put
    // every weight above the 4 GiB mark, so CI covers 64-bit addressing of weights.
    beginLoad(totalBytes, { minAddress = 0 } = {}) {
        this._live();
        const total = Number(totalBytes);
        if (!Number.isSafeInteger(total) || total <= 0)
            throw new ChordError('invalid_arg', `model size ${totalBytes} is not a positive byte count`);
        if (!Number.isSafeInteger(minAddress) || minAddress < 0)
            throw new ChordError('invalid_arg', `minAddress ${minAddress} is not a non-negative byte offset`);
        const hs = this.heapStats();
        const room = this.maxMemoryBytes - hs.used - (this.is64 ? 0 : 65536);
        const below = Math.max(0, minAddress - hs.used);
        if (total + below > room)
            throw new ChordError('nomem', `the model (${total} bytes${minAddress ? ` at address >= ${minAddress}` : ''}) ` +
                `does not fit in this ${this.target} engine: ${Math.max(0, room)} bytes of ${this.maxMemoryBytes} are available`);
        let spacer = 0;
        if (minAddress > 0) {
            const probe = this._alloc(16);
            this._free(probe);
            if (probe < minAddress) {
                spacer = this.N(this.x.chord_wasm_alloc(this.P(minAddress - probe)));
                if (!spacer) throw this._error();
            }
        }
        const ptr = this.N(this.x.chord_wasm_alloc_aligned(this.P(total), this.P(64)));
        const err = ptr ? null : this._error();
        this._free(spacer);
        if (!ptr) throw err;
        if (ptr < minAddress) {
            this._free(ptr);
            throw new ChordError('internal', `the model buffer landed at ${ptr}, below the requested ${minAddress}`);
        }
        return new Loader(this, ptr, total);
    }

    // residency: 'auto' | 'resident' | 'paged' — anything but the default opens the model with
    // chord_model_params' residency settings (paged layers are read through hostRead while
    // generating, on this thread).
    // asyncReads: the host also reads asynchronously (hostReadAsync), so a paged model's prefetch
    // hands it the next layers' slots and computes meanwhile.
    openHostModel(handle, size, { vocabOnly = false, residency, memoryBudget = 0, cacheLayers = 0, prefetch = 1,
        policy = 'pin', nCtx = 0, asyncReads = false } = {}) {
        this._live();
        let m;
        if (residency === undefined) {
            m = this.N(this.x.chord_wasm_model_open_host(handle | 0, BigInt(size), vocabOnly ? 1 : 0));
        } else {
            const r = ['auto', 'resident', 'paged'].indexOf(residency), pol = ['pin', 'lru'].indexOf(policy);
            if (r < 0 || pol < 0) throw new ChordError('invalid_arg', `residency ${residency} / policy ${policy} unknown`);
            m = this.N(this.x.chord_wasm_model_open_host_ex(handle | 0, BigInt(size), r, BigInt(memoryBudget),
                cacheLayers | 0, prefetch | 0, pol, nCtx | 0, asyncReads ? 1 : 0));
        }
        if (!m) throw this._error();
        return new Model(this, m);
    }

    newSampler({ temperature = 0.8, topK = 40, topP = 0.95, minP = 0.05, repeatPenalty = 1, repeatLastN = 64,
        seed = 0, ignoreEos = false } = {}) {
        this._live();
        const s = BigInt.asUintN(64, BigInt(seed ?? 0));
        const p = this.N(this.x.chord_wasm_sampler_new(temperature ?? 0.8, topK ?? 40, topP ?? 0.95, minP ?? 0.05,
            repeatPenalty ?? 1, repeatLastN ?? 64, Number(s & 0xffffffffn) | 0, Number(s >> 32n) | 0, ignoreEos ? 1 : 0));
        if (!p) throw this._error();
        return new Sampler(this, p);
    }
}

class Loader {
    constructor(engine, ptr, total) { Object.assign(this, { engine, ptr, total, offset: 0 }); }
    write(chunk) {
        if (!this.ptr) throw new ChordError('invalid_arg', 'the load was finished or aborted');
        const c = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk.buffer ?? chunk, chunk.byteOffset ?? 0, chunk.byteLength);
        if (this.offset + c.length > this.total)
            throw new ChordError('range', `chunk of ${c.length} bytes at offset ${this.offset} overruns the declared size ${this.total}`);
        this.engine._u8(this.ptr + this.offset, c.length).set(c);
        this.offset += c.length;
        return this.offset;
    }
    finishLoad({ vocabOnly = false } = {}) {
        const e = this.engine;
        if (!this.ptr) throw new ChordError('invalid_arg', 'the load was finished or aborted');
        if (this.offset !== this.total) {
            this.abort();
            throw new ChordError('io', `the model stream ended after ${this.offset} of ${this.total} bytes`);
        }
        const ptr = this.ptr;
        this.ptr = 0; // the model owns the buffer now, also on failure
        const m = e.N(e.x.chord_wasm_model_open_memory(e.P(ptr), e.P(this.total), vocabOnly ? 1 : 0));
        if (!m) throw e._error();
        return new Model(e, m);
    }
    abort() {
        if (this.ptr) this.engine._free(this.ptr);
        this.ptr = 0;
    }
}

class Model {
    constructor(engine, ptr) {
        this.engine = engine;
        this.ptr = ptr;
        const j = engine.N(engine.x.chord_wasm_model_info_json(engine.P(ptr)));
        if (!j) throw engine._error();
        this.info = JSON.parse(engine._cstr(j));
    }
    _live() { if (!this.ptr) throw new ChordError('invalid_arg', 'the model is disposed'); this.engine._live(); }

    // Calls fn(cap, outPtr) → count (BigInt); retries once with the needed capacity, and only
    // when the engine said 'buffer' (too small): any other status is thrown.
    _counted(bytesPerItem, cap, fn) {
        const e = this.engine;
        for (let attempt = 0; attempt < 2; attempt++) {
            const out = e._alloc(Math.max(1, cap) * bytesPerItem);
            try {
                const n = Number(fn(out, cap));
                if (n < 0) throw e._error();
                if (n <= cap) return { out: e._u8(out, n * bytesPerItem).slice(), n };
                if (e.x.chord_wasm_last_error_code() !== BUFFER) throw e._error();
                cap = n;
            } finally { e._free(out); }
        }
        throw new ChordError('internal', 'buffer size negotiation failed');
    }

    tokenize(text, { addSpecial = true, parseSpecial = false } = {}) {
        this._live();
        const e = this.engine;
        const bytes = new TextEncoder().encode(String(text));
        const tp = e._putBytes(bytes);
        try {
            const flags = (addSpecial ? 1 : 0) | (parseSpecial ? 2 : 0);
            const { out, n } = this._counted(4, bytes.length + 8, (o, cap) =>
                e.x.chord_wasm_tokenize(e.P(this.ptr), e.P(tp), e.P(bytes.length), flags, e.P(o), e.P(cap)));
            return new Int32Array(out.buffer, 0, n);
        } finally { e._free(tp); }
    }

    detokenize(ids) {
        this._live();
        const e = this.engine;
        const arr = Int32Array.from(ids);
        const ip = e._putBytes(new Uint8Array(arr.buffer));
        try {
            const { out } = this._counted(1, arr.length * 8 + 16, (o, cap) =>
                e.x.chord_wasm_detokenize(e.P(this.ptr), e.P(ip), e.P(arr.length), e.P(o), e.P(cap)));
            return new TextDecoder().decode(out);
        } finally { e._free(ip); }
    }

    piece(id) {
        this._live();
        const e = this.engine;
        return this._counted(1, 64, (o, cap) => e.x.chord_wasm_token_piece(e.P(this.ptr), id | 0, e.P(o), e.P(cap))).out;
    }

    /** chord_model_cache_stats: { policy, n_layer, slots, pinned, hits, misses, prefetch_hits,
     *  evictions, bytes_read, read_ms, stall_ms, resident_bytes }. */
    cacheStats() {
        this._live();
        const p = this.engine.N(this.engine.x.chord_wasm_model_cache_stats_json(this.engine.P(this.ptr)));
        if (!p) throw this.engine._error();
        return JSON.parse(this.engine._cstr(p));
    }
    /** Fills every slot (every layer when all fit). */
    preload() { this._live(); this.engine._check(this.engine.x.chord_wasm_model_preload(this.engine.P(this.ptr))); }
    /** Drops cached layers that are not pinned. */
    clearCache() { this._live(); this.engine._check(this.engine.x.chord_wasm_model_clear_cache(this.engine.P(this.ptr))); }

    isEog(id) { this._live(); return this.engine.x.chord_wasm_token_is_eog(this.engine.P(this.ptr), id | 0) !== 0; }

    // The chat template over a conversation object ({ messages, add_generation_prompt, ... });
    // `template` (a string) overrides the model's own (BOS/EOS text from this vocabulary).
    // Returns the rendered text.
    chatRender(conversation, template = null) {
        this._live();
        const e = this.engine;
        const enc = new TextEncoder();
        const json = enc.encode(JSON.stringify(conversation));
        const cstr = (s) => { const b = enc.encode(s); const z = new Uint8Array(b.length + 1); z.set(b); return z; };
        const tok = (id) => (id >= 0 ? new TextDecoder().decode(this.piece(id)) : '');
        const jp = e._putBytes(json);
        const lenp = e._alloc(8);
        const extra = [];
        try {
            e._u8(lenp, 8).fill(0);
            let out;
            if (template) {
                const tb = enc.encode(template);
                const tp = e._putBytes(tb), bp = e._putBytes(cstr(tok(this.info.bos))), ep = e._putBytes(cstr(tok(this.info.eos)));
                extra.push(tp, bp, ep);
                out = e.N(e.x.chord_wasm_chat_render_template(e.P(tp), e.P(tb.length), e.P(bp), e.P(ep), e.P(jp), e.P(json.length), e.P(lenp)));
            } else {
                out = e.N(e.x.chord_wasm_chat_render(e.P(this.ptr), e.P(jp), e.P(json.length), e.P(lenp)));
            }
            if (!out) throw e._error();
            // size_t is 4 or 8 bytes: read the low 32 bits (little-endian; the slot was zeroed)
            const n = new DataView(e.memory.buffer, lenp, 4).getUint32(0, true);
            try { return e._str(out, n); } finally { e.x.chord_wasm_free(e.P(out)); }
        } finally {
            e._free(jp);
            e._free(lenp);
            for (const p of extra) e._free(p);
        }
    }

    // Rendered chat text → ids: special tokens parsed, BOS added unless the text starts with it.
    chatTokenize(text) {
        this._live();
        const e = this.engine;
        const bytes = new TextEncoder().encode(String(text));
        const tp = e._putBytes(bytes);
        try {
            const { out, n } = this._counted(4, bytes.length + 8, (o, cap) =>
                e.x.chord_wasm_chat_tokenize(e.P(this.ptr), e.P(tp), e.P(bytes.length), e.P(o), e.P(cap)));
            return new Int32Array(out.buffer, 0, n);
        } finally { e._free(tp); }
    }

    newDetok() {
        this._live();
        const e = this.engine;
        const d = e.N(e.x.chord_wasm_detok_new(e.P(this.ptr)));
        if (!d) throw e._error();
        // What one push can write for this model (longest piece, measured at load): never short.
        const cap = Math.max(64, Number(e.x.chord_wasm_detok_max_bytes(e.P(this.ptr))));
        const buf = e._alloc(cap);
        let live = true;
        return {
            push: (id) => {
                if (!live) throw new ChordError('invalid_arg', 'the detokenizer is disposed');
                const n = Number(e.x.chord_wasm_detok_push(e.P(d), id | 0, e.P(buf), e.P(cap)));
                if (n < 0) throw e._error();
                return e._str(buf, n);
            },
            flush: () => (live ? e._str(buf, Number(e.x.chord_wasm_detok_flush(e.P(d), e.P(buf), e.P(cap)))) : ''),
            dispose: () => {
                if (!live) return;
                live = false;
                e.x.chord_wasm_detok_free(e.P(d));
                e._free(buf);
            },
        };
    }

    newSession({ nCtx = 0, nThreads = 0, nBatch = 0 } = {}) {
        this._live();
        const e = this.engine;
        const s = e.N(e.x.chord_wasm_session_new(e.P(this.ptr), nCtx | 0, nThreads | 0, nBatch | 0));
        if (!s) throw e._error();
        return new Session(e, this, s);
    }

    dispose() {
        if (!this.ptr || this.engine._disposed) { this.ptr = 0; return; }
        this.engine.x.chord_wasm_model_free(this.engine.P(this.ptr));
        this.ptr = 0;
    }
}

class Sampler {
    constructor(engine, ptr) { this.engine = engine; this.ptr = ptr; }
    dispose() {
        if (this.ptr && !this.engine._disposed) this.engine.x.chord_wasm_sampler_free(this.engine.P(this.ptr));
        this.ptr = 0;
    }
}

class Session {
    constructor(engine, model, ptr) {
        Object.assign(this, { engine, model, ptr });
        // The session's cancel word (C chord_session_cancel stores 1 there): another thread
        // holding the memory cancels with Atomics.store(new Int32Array(buffer, index * 4, 1), 0, 1).
        // (index * 4 is the byte address; a Number, since wasm64 addresses pass 2^32: use a
        // one-word view, new Int32Array(buffer, index * 4, 1).)
        this.cancelWord = { buffer: engine.memory.buffer, index: engine.N(engine.x.chord_wasm_session_cancel_ptr(engine.P(ptr))) / 4 };
    }
    // Stops the running feed/generate of this session (cancelled); a no-op when nothing runs.
    cancel() { if (this.ptr && !this.engine._disposed) this.engine.x.chord_wasm_session_cancel(this.engine.P(this.ptr)); }
    _live() { if (!this.ptr) throw new ChordError('invalid_arg', 'the session is disposed'); this.engine._live(); }
    get pos() { return this.engine.x.chord_wasm_session_pos(this.engine.P(this.ptr)); }
    get nCtx() { return this.engine.x.chord_wasm_session_n_ctx(this.engine.P(this.ptr)); }
    reset() { this._live(); this.engine.x.chord_wasm_session_reset(this.engine.P(this.ptr)); }
    // Keeps the first n cached tokens (KV reuse across chat turns).
    truncate(n) { this._live(); this.engine._check(this.engine.x.chord_wasm_session_truncate(this.engine.P(this.ptr), n | 0)); }
    // How many leading ids equal the tokens in the cache.
    commonPrefix(ids) {
        this._live();
        const e = this.engine;
        const arr = Int32Array.from(ids);
        const p = e._putBytes(new Uint8Array(arr.buffer));
        try { return e.x.chord_wasm_session_common_prefix(e.P(this.ptr), e.P(p), e.P(arr.length)); } finally { e._free(p); }
    }

    // onProgress({ done, batch, total, layer, nLayer }) runs after every layer of every batch of a
    // feed of more than one token (the engine is between two layers; calls into it are safe). A
    // throw inside it is rethrown after the feed, which it cannot stop (cancel() does).
    feed(ids, onProgress) {
        this._live();
        const e = this.engine;
        const arr = Int32Array.from(ids);
        const p = e._putBytes(new Uint8Array(arr.buffer));
        let thrown = null;
        if (onProgress) {
            e._onProgress = (done, batch, total, layer, nLayer) => {
                if (thrown) return;
                try { onProgress({ done, batch, total, layer, nLayer }); } catch (err) { thrown = err; }
            };
            e.x.chord_wasm_session_progress(e.P(this.ptr), 1);
        }
        try { e._check(e.x.chord_wasm_session_feed(e.P(this.ptr), e.P(p), e.P(arr.length))); } finally {
            e._free(p);
            if (onProgress) {
                e.x.chord_wasm_session_progress(e.P(this.ptr), 0);
                e._onProgress = () => {};
            }
        }
        if (thrown) throw thrown;
    }

    logits() {
        this._live();
        const e = this.engine;
        const p = e.N(e.x.chord_wasm_session_logits(e.P(this.ptr)));
        if (!p) return null;
        const n = e.x.chord_wasm_session_n_vocab(e.P(this.ptr));
        return new Float32Array(e.memory.buffer, p, n).slice();
    }

    sample(sampler) {
        this._live();
        const t = this.engine.x.chord_wasm_session_sample(this.engine.P(this.ptr), this.engine.P(sampler.ptr));
        if (t < 0) throw this.engine._error();
        return t;
    }

    step(sampler) {
        const t = this.sample(sampler);
        this.feed([t]);
        return t;
    }

    // The C generate loop. onToken(id, text) → true to stop. A throw inside onToken stops
    // generation and is rethrown here.
    generate(sampler, maxTokens, onToken) {
        this._live();
        const e = this.engine;
        let thrown = null;
        e._onToken = (token, text) => {
            try { return onToken?.(token, text) ? 1 : 0; } catch (err) { thrown = err; return 1; }
        };
        let st;
        try {
            st = e.x.chord_wasm_session_generate(e.P(this.ptr), e.P(sampler.ptr), maxTokens | 0, e.P(0));
        } finally { e._onToken = () => 1; }
        if (thrown) throw thrown;
        const tokens = e.x.chord_wasm_session_n_generated(e.P(this.ptr));
        if (st === 0) return { status: 'ok', tokens };
        if (st === 9) return { status: 'cancelled', tokens };
        if (st === 6) return { status: 'range', tokens, message: e._error().message };
        throw e._error();
    }

    stats() {
        this._live();
        const e = this.engine;
        const p = e.N(e.x.chord_wasm_session_stats_json(e.P(this.ptr)));
        if (!p) throw e._error();
        return JSON.parse(e._cstr(p));
    }

    dispose() {
        if (this.ptr && !this.engine._disposed) this.engine.x.chord_wasm_session_free(this.engine.P(this.ptr));
        this.ptr = 0;
    }
}
