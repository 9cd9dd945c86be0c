// sources.js — where model bytes come from. Every source kind (URL, File/Blob, ArrayBuffer or
// typed array, a file path in Node) becomes the same shape: { kind, name, size, open(signal),
// reader(signal) }. A reader fills buffers the caller owns, in file order:
//
//   reader.fill(buffer) → { buffer, n }   fills buffer (an ArrayBuffer) from its start; n is
//                                         smaller than buffer.byteLength only at the end of the
//                                         file. The returned buffer is the one to use from now
//                                         on: a BYOB read moves the bytes' backing store into a
//                                         new ArrayBuffer object (no copy, no new memory).
//   reader.byob                           true when the stream is read straight into the
//                                         caller's buffer (fetch bodies and Blob streams are
//                                         byte streams in Chromium and Node)
//   reader.unpooledBytes                  bytes that first landed in a buffer made for that
//                                         read alone (a default stream reader's chunks): each is
//                                         garbage afterwards, so this is what a load leaves for
//                                         the collector; 0 with BYOB and for paths and buffers
//   reader.parallel                       how many fills may be in flight at once (1 but for
//                                         a File/Blob: each fill claims its range when called)
//   reader.close()
//
// So a load reads the whole file through a few reused buffers (index.js) and the memory it
// needs besides the wasm memory is bounded by them, not by how fast the collector runs. Nothing
// here ever holds the whole file in one buffer: Chromium cannot make one ArrayBuffer above
// ~1.9 GiB from fetch.

import { ChordError } from './errors.js';

// 8 MiB: large enough that per-chunk overhead (postMessage, copy into wasm memory) is noise,
// small enough that a few chunks in flight cost little memory.
export const CHUNK_BYTES = 8 << 20;

const isNode = typeof process !== 'undefined' && !!process.versions?.node &&
    typeof globalThis.window === 'undefined';

function cancelled(signal) {
    const r = signal?.reason;
    if (r instanceof ChordError) return r;
    return new ChordError('cancelled', 'model load aborted' + (r?.message ? `: ${r.message}` : ''));
}

export function checkSignal(signal) {
    if (signal?.aborted) throw cancelled(signal);
}

// ---- the no-progress watchdog ---------------------------------------------------------------------
//
// A read that brings no byte for this long is a stall, not a slow source: the read is cancelled
// and the load (or the store's piece read) ends with ChordError('io') naming the source and the
// byte where it stopped, instead of waiting for ever. Seen: a Chromium 156 File stream that
// stopped for good after ~3.1 GB of a 7.2 GB file, and 32 MiB slices of a File read two at a time
// that never delivered. A local File gets one more try of the same range first (a fresh slice
// read is cheap and may get past a browser read that stopped). A network answer may pause for
// longer.
/** No-progress limits in ms (loadModel's stallTimeoutMs sets both). */
export const STALL_MS_LOCAL = 30000;
export const STALL_MS_NETWORK = 60000;

function stallError(ms, where) {
    return Object.assign(new ChordError('io', `no bytes for ${ms / 1000} s ${where}`), { stalled: true });
}

/** reader.read(view) (view null: a default reader's read()), failing with a stall error
 *  (ChordError 'io', `stalled: true`) when nothing comes for ms; the reader is then cancelled.
 *  where() describes the read for the message. ms 0: no limit. */
export async function readWithin(reader, view, ms, where) {
    const read = view ? reader.read(view) : reader.read();
    if (!ms) return read;
    let timer;
    const stall = new Promise((_, reject) => { timer = setTimeout(() => reject(stallError(ms, where())), ms); });
    try {
        return await Promise.race([read, stall]);
    } catch (e) {
        if (e?.stalled) reader.cancel().catch(() => {});
        throw e;
    } finally {
        clearTimeout(timer);
    }
}

/** fetch(url, init) whose answer (status and headers) must come within ms, else a stall error;
 *  the caller's init.signal still aborts it (as that signal's reason). */
export async function fetchWithin(url, init, ms, where) {
    if (!ms) return fetch(url, init);
    const ctl = new AbortController();
    const outer = init.signal;
    const onAbort = () => ctl.abort(outer.reason);
    if (outer?.aborted) onAbort(); else outer?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctl.abort(); }, ms);
    try {
        return await fetch(url, { ...init, signal: ctl.signal });
    } catch (e) {
        if (timedOut) throw stallError(ms, `of an answer from ${where}`);
        throw e;
    } finally {
        clearTimeout(timer);
        outer?.removeEventListener('abort', onAbort);
    }
}

function isUrlLike(s) {
    return /^(https?|blob|data|file):/i.test(s);
}

// ---- a ReadableStream (fetch body, Blob.stream()) -------------------------------------------------

// BYOB when the stream is a byte stream: every read lands in the caller's buffer. Otherwise the
// stream's own chunks are copied in (and counted in unpooledBytes).
export function streamReader(stream, what, signal, { byob: wantByob = true, stallMs = STALL_MS_NETWORK } = {}) {
    let reader = null, byob = wantByob;
    if (byob) try { reader = stream.getReader({ mode: 'byob' }); } catch { byob = false; }
    reader ??= stream.getReader();
    const onAbort = () => reader.cancel().catch(() => {});
    signal?.addEventListener('abort', onAbort, { once: true });
    let ended = false, rest = null, total = 0;
    const read = async (view) => {
        try {
            return await readWithin(reader, view, stallMs, () => `from ${what} after ${total} bytes`);
        } catch (e) {
            if (e?.stalled) throw e;
            if (signal?.aborted) throw cancelled(signal);
            throw Object.assign(new ChordError('io', `reading ${what}: ${e.message}`), { cause: e });
        }
    };
    const r = {
        byob,
        unpooledBytes: 0,
        async fill(buffer) {
            const cap = buffer.byteLength;
            let n = 0;
            while (n < cap && !ended) {
                checkSignal(signal);
                if (byob) {
                    const got = await read(new Uint8Array(buffer, n, cap - n));
                    // the view's buffer was transferred into the read; it comes back in value
                    if (!got.value) throw cancelled(signal);
                    buffer = got.value.buffer;
                    n += got.value.byteLength;
                    total += got.value.byteLength;
                    if (got.done) ended = true;
                    continue;
                }
                if (!rest) {
                    const got = await read(null);
                    if (got.done) { ended = true; break; }
                    rest = got.value;
                    total += rest.byteLength;
                    r.unpooledBytes += rest.byteLength;
                }
                const k = Math.min(rest.byteLength, cap - n);
                new Uint8Array(buffer, n, k).set(rest.subarray(0, k));
                n += k;
                rest = k < rest.byteLength ? rest.subarray(k) : null;
            }
            checkSignal(signal);
            return { buffer, n };
        },
        close() {
            signal?.removeEventListener('abort', onAbort);
            reader.cancel().catch(() => {});
        },
    };
    return r;
}

// ---- URL: fetch, body read into the caller's buffers ----------------------------------------------

function fromUrl(url, opts) {
    let response = null;
    const src = {
        kind: 'url',
        name: String(url).split(/[?#]/)[0].split('/').pop() || String(url),
        size: null,
        async open(signal) {
            try {
                response = await fetchWithin(url, { signal, headers: opts.headers, credentials: opts.credentials },
                    opts.stallTimeoutMs ?? STALL_MS_NETWORK, url);
            } catch (e) {
                if (e?.stalled) throw e;
                if (signal?.aborted) throw cancelled(signal);
                throw new ChordError('io', `fetch ${url} failed: ${e.message}`);
            }
            if (!response.ok)
                throw new ChordError('io', `fetch ${url}: HTTP ${response.status} ${response.statusText}`);
            // Content-Length is the file size only when the body is not content-encoded.
            const len = response.headers.get('content-length');
            const enc = response.headers.get('content-encoding');
            if (len !== null && (!enc || enc === 'identity')) src.size = Number(len);
            if (!response.body) throw new ChordError('io', `fetch ${url}: response has no body`);
        },
        reader(signal) { return streamReader(response.body, url, signal, { stallMs: opts.stallTimeoutMs ?? STALL_MS_NETWORK }); },
    };
    return src;
}

// ---- Blob / File: BYOB reads of slices, several in flight -------------------------------------

/** Reads of a File/Blob a load keeps in flight at once (sliced reader below). */
export const BLOB_READS_IN_FLIGHT = 3;
/** Largest slice one Blob read streams: Chromium 156 read 24 MiB slices two at a time at ~150
 *  MB/s and 32 MiB slices two at a time not at all (stalled for good; bench/file_read.mjs),
 *  while 8–16 MiB slices ran at 570–1160 MB/s. Longer reads are several slices in turn. */
export const BLOB_SLICE_MAX = 16 << 20;

/**
 * Reads [start, start + len) of a Blob into buffer from its start, by BYOB reads of slices of at
 * most BLOB_SLICE_MAX → { buffer, n } (buffer: the ArrayBuffer now holding the bytes — a BYOB read
 * moves them into a new object; n < len only when the Blob is shorter than it claims). Errors
 * are passed on as the stream raised them (callers name the file); an aborted signal cancels.
 * A slice that brings no byte for stallMs is cancelled and the whole range read once more (into a
 * new buffer when the stalled read took the old one); a second stall is ChordError('io')
 * naming `name` and the byte (`stalled: true`).
 */
export async function readBlobRange(blob, start, len, buffer, signal, { stallMs = STALL_MS_LOCAL, name = 'blob', onRetry } = {}) {
    const cap = buffer.byteLength;
    for (let attempt = 1; ; attempt++) {
        try {
            return await readBlobOnce(blob, start, len, buffer, signal, stallMs, name);
        } catch (e) {
            if (!e?.stalled || attempt === 2) throw e;
            onRetry?.();
            if (buffer.byteLength === 0) buffer = new ArrayBuffer(cap); // detached by the cancelled read
        }
    }
}

async function readBlobOnce(blob, start, len, buffer, signal, stallMs, name) {
    let n = 0;
    while (n < len) {
        checkSignal(signal);
        const k = Math.min(BLOB_SLICE_MAX, len - n);
        const rd = blob.slice(start + n, start + n + k).stream().getReader({ mode: 'byob' });
        const onAbort = () => rd.cancel().catch(() => {});
        signal?.addEventListener('abort', onAbort, { once: true });
        let got = 0;
        try {
            while (got < k) {
                let r;
                try {
                    r = await readWithin(rd, new Uint8Array(buffer, n + got, k - got), stallMs,
                        () => `reading ${name} at byte ${start + n + got}`);
                } catch (e) {
                    if (signal?.aborted) throw cancelled(signal);
                    throw e;
                }
                if (!r.value) throw cancelled(signal);
                buffer = r.value.buffer;
                if (r.done) break;
                got += r.value.byteLength;
            }
        } finally {
            signal?.removeEventListener('abort', onAbort);
            rd.cancel().catch(() => {});
        }
        n += got;
        if (got < k) break; // the Blob ended early
    }
    checkSignal(signal);
    return { buffer, n };
}

// Each fill(buffer) reads the next buffer.byteLength bytes of the Blob straight into the buffer
// (readBlobRange). Several fills may be in flight (`parallel`): each claims its range when
// called, so the caller starts the next read while the previous ones (and its copies into wasm
// memory) run, and takes them back in call order. Why several at once: each slice read has a
// fixed start-up cost in the browser (a round trip to the process that owns the file), so one
// read at a time left Chromium's File reads at 200–300 MB/s and two to four at once at 570–1160
// MB/s (bench/file_read.mjs, warm 4 GB file); one BYOB stream of the whole File stalled for good
// after ~3.1 GB of a 7.2 GB file in Chromium 156, and its default reader's chunks (~280 MB/s)
// each made a buffer for the collector.
function slicedBlobReader(blob, what, signal, stallMs) {
    let pos = 0;
    const r = {
        byob: true,
        unpooledBytes: 0,
        stallRetries: 0,
        parallel: BLOB_READS_IN_FLIGHT,
        get claimed() { return pos; },
        async fill(buffer) {
            checkSignal(signal);
            const start = pos, len = Math.min(buffer.byteLength, blob.size - start);
            pos += len;
            if (len === 0) return { buffer, n: 0 };
            try {
                return await readBlobRange(blob, start, len, buffer, signal,
                    { stallMs, name: what, onRetry: () => { r.stallRetries++; } });
            } catch (e) {
                if (e instanceof ChordError) throw e;
                throw Object.assign(new ChordError('io', `reading ${what}: ${e.message}`), { cause: e });
            }
        },
        close() {},
    };
    return r;
}

function fromBlob(blob, opts) {
    const name = blob.name || 'blob';
    return {
        kind: 'blob',
        name,
        size: blob.size,
        async open() {},
        reader(signal) { return slicedBlobReader(blob, name, signal, opts.stallTimeoutMs ?? STALL_MS_LOCAL); },
    };
}

// ---- caller memory: copied piece by piece (the caller's buffer is never detached) ---------------

function fromBytes(bytes) {
    return {
        kind: 'bytes',
        name: 'buffer',
        size: bytes.byteLength,
        async open() {},
        reader(signal) {
            let off = 0;
            return {
                byob: true,
                unpooledBytes: 0,
                async fill(buffer) {
                    checkSignal(signal);
                    const n = Math.min(buffer.byteLength, bytes.byteLength - off);
                    new Uint8Array(buffer, 0, n).set(bytes.subarray(off, off + n));
                    off += n;
                    return { buffer, n };
                },
                close() {},
            };
        },
    };
}

// ---- Node file path: positioned reads into the caller's buffer ------------------------------------

function fromPath(path) {
    const src = {
        kind: 'path',
        name: String(path).split(/[\\/]/).pop(),
        size: null,
        async open() {
            const fs = await import('node:fs');
            try {
                src._fh = await fs.promises.open(path, 'r');
                const st = await src._fh.stat();
                if (!st.isFile()) throw new Error('not a regular file');
                src.size = st.size;
            } catch (e) {
                await src._fh?.close().catch(() => {});
                src._fh = null;
                throw new ChordError('io', `cannot open model file ${path}: ${e.code || e.message}`);
            }
        },
        reader(signal) {
            const fh = src._fh;
            let pos = 0;
            return {
                byob: true,
                unpooledBytes: 0,
                async fill(buffer) {
                    let n = 0;
                    while (n < buffer.byteLength) {
                        checkSignal(signal);
                        let got;
                        try {
                            ({ bytesRead: got } = await fh.read(new Uint8Array(buffer, n, buffer.byteLength - n), 0,
                                buffer.byteLength - n, pos));
                        } catch (e) {
                            throw new ChordError('io', `reading ${path}: ${e.code || e.message}`);
                        }
                        if (got === 0) break;
                        n += got;
                        pos += got;
                    }
                    return { buffer, n };
                },
                close() { fh.close().catch(() => {}); },
            };
        },
    };
    return src;
}

/**
 * Turns what the caller passed to loadModel into a source. Throws ChordError('invalid_arg') for
 * anything else. Strings are URLs in browsers; in Node a string is a URL when it has a scheme
 * (http:, https:, file:, data:, blob:) and a file path otherwise.
 */
export function toSource(source, opts = {}) {
    if (source == null) throw new ChordError('invalid_arg', 'loadModel: no model source given');
    if (typeof Blob !== 'undefined' && source instanceof Blob) return fromBlob(source, opts);
    if (source instanceof ArrayBuffer ||
        (typeof SharedArrayBuffer !== 'undefined' && source instanceof SharedArrayBuffer))
        return fromBytes(new Uint8Array(source));
    if (ArrayBuffer.isView(source))
        return fromBytes(new Uint8Array(source.buffer, source.byteOffset, source.byteLength));
    if (source instanceof URL) source = source.href;
    if (typeof source === 'string') {
        if (isNode && /^file:/i.test(source)) return fromPath(new URL(source));
        if (isNode && !isUrlLike(source)) return fromPath(source);
        return fromUrl(source, opts);
    }
    throw new ChordError('invalid_arg',
        'loadModel: source must be a URL, File/Blob, ArrayBuffer, typed array or (Node) a file path; got ' +
        Object.prototype.toString.call(source));
}

/**
 * Opens a source and returns its reader with the size checks and progress of a load wrapped
 * around fill(): onProgress({ loaded, total }) after each fill (total is null when the size is
 * unknown); more bytes than the size, or fewer at the end, is ChordError('io'). `loaded` and
 * `ended` say where it is.
 */
export async function openSource(src, { signal, onProgress } = {}) {
    checkSignal(signal);
    await src.open(signal);
    const inner = src.reader(signal);
    // Fills of a parallel reader may finish out of order; they are counted in call order, so
    // `loaded`, `ended` and the size checks see the file's bytes in order.
    let last = Promise.resolve();
    const r = {
        byob: inner.byob,
        parallel: inner.parallel ?? 1,
        get unpooledBytes() { return inner.unpooledBytes; },
        /** Reads that stalled and were made again (a File's slices; sources.js, the watchdog). */
        get stallRetries() { return inner.stallRetries ?? 0; },
        /** Bytes asked for so far (fills in flight included): where the next fill starts. */
        get claimed() { return inner.claimed ?? r.loaded; },
        loaded: 0,
        ended: false,
        fill(buffer) {
            const p = inner.fill(buffer);
            const out = last.then(() => p).then((got) => {
                r.loaded += got.n;
                if (src.size !== null && r.loaded > src.size)
                    throw new ChordError('io', `${src.name}: got more bytes (${r.loaded}) than its size (${src.size})`);
                if (got.n < got.buffer.byteLength && !r.ended) {
                    r.ended = true;
                    if (src.size !== null && r.loaded !== src.size)
                        throw new ChordError('io', `${src.name}: stream ended after ${r.loaded} of ${src.size} bytes`);
                }
                onProgress?.({ loaded: r.loaded, total: src.size });
                return got;
            });
            last = out.catch(() => {});
            return out;
        },
        close() { inner.close(); },
    };
    onProgress?.({ loaded: 0, total: src.size });
    return r;
}
