// stores.js — host stores: where the engine's read import (env.chord_host_read) finds model
// bytes when they are not streamed whole into wasm memory. Every store has one interface:
//
//   kind, name, size        what it is and its byte length (known after open())
//   async open()            learns the size, checks the source is usable
//   canReadSync             true when readSync works on this host (it runs on the engine thread,
//                           inside a synchronous wasm call)
//   readSync(off, dst)      fills the Uint8Array dst with bytes [off, off + dst.length)
//   async read(off, len)    → a fresh Uint8Array of those bytes (every host; small reads)
//   async withPiece(off, len, fn)  reads len ≤ PIECE_BYTES bytes into one of the store's reused
//                           staging buffers and calls fn(view) before that buffer may be reused
//                           (no buffer per read, so the memory of a paged model is its slots plus
//                           these buffers, not the collector's lag)
//   async readPieces(off, len, fn)  the same for a whole span (a layer): pieces of ≤ PIECE_BYTES,
//                           PIECE_READS of them read at once into PIECE_READS staging buffers,
//                           fn(view, at) called in order; the next pieces are read while fn
//                           copies one. fn returning anything but undefined/'ok' stops the span
//                           (→ that value)
//   counters                { staging_buffers, unpooled_bytes, pieces, reads_in_flight_max }:
//                           buffers made for staging (PIECE_READS at most), bytes that came in a
//                           buffer made for that read alone (FileReaderSync, synchronous XHR, a
//                           stream without BYOB), pieces read, the most piece reads at once
//   close()                 releases handles; later reads fail with ChordError('io')
//
// A failed, short or out-of-range read throws ChordError('io') naming the store, offset and
// length. Reads are split into pieces of at most PIECE_BYTES, so no store ever makes a buffer of
// the whole file (a File is read by slices, a URL by Range requests, a path by positioned reads).
// The OPFS store and the download cache in front of it live in opfs.js.

import { ChordError } from './errors.js';
import { streamReader, readBlobRange, fetchWithin, STALL_MS_LOCAL, STALL_MS_NETWORK } from './sources.js';

/** Largest region of a RegionStore: 2 GiB, the ArrayBuffer size every engine allows. */
export const REGION_MAX = 2 ** 31;
/** Largest single read a store makes from its backing (a slice, a Range request, a pread). */
export const PIECE_BYTES = 16 << 20;
/** Piece reads a span keeps in flight (and staging buffers a store makes). A Blob slice or a Range
 *  request costs a round trip before its first byte; with one read at a time a paged layer from
 *  a File came in at 150–300 MB/s in Chromium, with two at once at 570–1000 MB/s. */
export const PIECE_READS = 2;

export function readError(store, off, len, why) {
    return new ChordError('io', `${store.kind} store ${store.name}: reading ${len} bytes at offset ${off} failed: ${why}`);
}

function checkSpan(store, off, len) {
    if (store.closed) throw readError(store, off, len, 'the store is closed');
    if (!Number.isSafeInteger(off) || off < 0 || off + len > store.size)
        throw readError(store, off, len, `outside the ${store.size}-byte source`);
}

// read() of a store whose pieces are filled asynchronously (Blob, Range): through fillPiece, so
// with the same answer checks and the watchdog, into a buffer of its own.
async function readByFill(store, off, len) {
    checkSpan(store, off, len);
    return (await store.fillPiece(new ArrayBuffer(len), off, len)).view;
}

// Reads [off, off + dst.length) in pieces: piece(pos, len) → Uint8Array of exactly len bytes.
function byPieces(store, off, dst, piece) {
    for (let done = 0; done < dst.length;) {
        const len = Math.min(store.pieceBytes, dst.length - done);
        const got = piece(off + done, len);
        if (got.byteLength !== len) throw readError(store, off + done, len, `got ${got.byteLength} bytes`);
        dst.set(got, done);
        done += len;
    }
}

class BaseStore {
    constructor(kind, name) {
        this.kind = kind; this.name = name; this.size = null; this.closed = false;
        this.pieceBytes = PIECE_BYTES; // loadModel's storePieceBytes may set it before the first read
        // a piece read that brings no byte for this long fails (sources.js, the watchdog);
        // loadModel's stallTimeoutMs may set it
        this.stallMs = STALL_MS_LOCAL;
        this.counters = { staging_buffers: 0, unpooled_bytes: 0, pieces: 0, reads_in_flight_max: 0 };
        this.free = [];      // staging buffers not in use
        this.reading = 0;    // piece reads in flight
        this.lock = Promise.resolve();
    }
    get canReadSync() { return true; }
    async open() {}
    async read(off, len) {
        const dst = new Uint8Array(len);
        this.readSync(off, dst);
        return dst;
    }
    // One span at a time (reads may be requested concurrently: the store helper serves demand
    // reads and prefetches from one event loop), so at most PIECE_READS staging buffers exist.
    #serial(fn) {
        const run = this.lock.then(fn);
        this.lock = run.catch(() => {});
        return run;
    }
    withPiece(off, len, fn) {
        return this.#serial(async () => {
            checkSpan(this, off, len);
            if (len > this.pieceBytes) throw readError(this, off, len, `a piece is at most ${this.pieceBytes} bytes`);
            const got = await this.#piece(off, len);
            try { return await fn(got.view); } finally { this.free.push(got.buffer); }
        });
    }
    readPieces(off, len, fn) {
        return this.#serial(async () => {
            checkSpan(this, off, len);
            const q = [];
            let next = 0;
            const start = () => {
                const n = Math.min(this.pieceBytes, len - next), p = this.#piece(off + next, n);
                p.catch(() => {}); // taken in order below
                q.push(p);
                next += n;
            };
            try {
                while (next < len && q.length < PIECE_READS) start();
                for (let at = 0; q.length; ) {
                    const got = await q.shift();
                    // the next piece is being read into the other buffer while fn copies this
                    // one; this buffer then takes the piece after it
                    let r;
                    try { r = await fn(got.view, at); } finally { this.free.push(got.buffer); }
                    at += got.view.length;
                    if (r !== undefined && r !== 'ok') return r;
                    if (next < len) start();
                }
                return 'ok';
            } finally {
                // reads still in flight (a failure or a stop) settle before the next span may
                // take their buffers
                for (const p of q) await p.then((g) => this.free.push(g.buffer), () => {});
            }
        });
    }
    // Reads [off, off + len) into a free staging buffer (made while fewer than PIECE_READS exist)
    // → { buffer, view }. A buffer lost in a failed read (a BYOB read that moved it) is not
    // given back; the next read makes another.
    async #piece(off, len) {
        const buffer = this.free.pop() ?? (this.counters.staging_buffers++, new ArrayBuffer(this.pieceBytes));
        this.counters.pieces++;
        this.reading++;
        this.counters.reads_in_flight_max = Math.max(this.counters.reads_in_flight_max, this.reading);
        try {
            return await this.fillPiece(buffer, off, len);
        } finally { this.reading--; }
    }
    // Fills buffer with [off, off + len) → { buffer, view } (a BYOB read moves the bytes into a
    // new ArrayBuffer object: the one to keep). Stores with a synchronous read fill it in place.
    async fillPiece(buffer, off, len) {
        const view = new Uint8Array(buffer, 0, len);
        this.readSync(off, view);
        return { buffer, view };
    }
    close() { this.closed = true; this.free = []; }
}

// Reads exactly len bytes of a ReadableStream into a staging buffer → { buffer, view }, with the
// streamed load's reader (sources.js: BYOB when the stream is a byte stream, else its chunks are
// copied in and counted as unpooled). The buffer is filled up to its size, so a longer answer
// shows as more than len bytes; the store's callers name the store, so a stream's own error is
// passed on as it came.
async function streamPiece(store, stream, buffer, off, len) {
    const rd = streamReader(stream, store.name, undefined, { stallMs: store.stallMs });
    try {
        const got = await rd.fill(buffer);
        let n = got.n;
        if (n === buffer.byteLength) n += (await rd.fill(new ArrayBuffer(1))).n;
        if (n > len) throw new Error(`more than the ${len} bytes asked for`);
        if (n !== len) throw new Error(`got ${n} bytes`);
        return { buffer: got.buffer, view: new Uint8Array(got.buffer, 0, len) };
    } catch (e) {
        throw e.cause ?? e;
    } finally {
        store.counters.unpooled_bytes += rd.unpooledBytes;
        rd.close();
    }
}

// ---- ArrayBuffer regions ------------------------------------------------------------------------

/**
 * A model held in several ArrayBuffers of at most REGION_MAX bytes each (the seeds'
 * multi-region layout: portable to every engine, and a model larger than one ArrayBuffer may be
 * still fits). Reads cross region boundaries transparently.
 */
export class RegionStore extends BaseStore {
    constructor(regions, name = 'regions') {
        super('regions', name);
        if (!Array.isArray(regions) || regions.length === 0)
            throw new ChordError('invalid_arg', 'regions must be a non-empty array of ArrayBuffers');
        this.regions = regions.map((r, i) => {
            const ok = r instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && r instanceof SharedArrayBuffer);
            if (!ok) throw new ChordError('invalid_arg', `region ${i} is not an ArrayBuffer`);
            if (r.byteLength === 0 || r.byteLength > REGION_MAX)
                throw new ChordError('invalid_arg', `region ${i} has ${r.byteLength} bytes; each region holds 1 to ${REGION_MAX}`);
            return new Uint8Array(r);
        });
        this.starts = [];
        let at = 0;
        for (const r of this.regions) { this.starts.push(at); at += r.byteLength; }
        this.size = at;
    }

    /** Fills regions of at most regionBytes from a source reader (sources.js, openSource): each
     *  region is read straight into (BYOB), so no chunk is made and dropped on the way. */
    static async fromReader(reader, size, { regionBytes = 2 ** 30, name } = {}) {
        if (!(Number.isSafeInteger(regionBytes) && regionBytes > 0 && regionBytes <= REGION_MAX))
            throw new ChordError('invalid_arg', `regionBytes must be in [1, ${REGION_MAX}], got ${regionBytes}`);
        if (!(Number.isSafeInteger(size) && size > 0))
            throw new ChordError('invalid_arg', 'a region store needs the source size up front');
        const regions = [];
        for (let total = 0; total < size;) {
            const got = await reader.fill(new ArrayBuffer(Math.min(regionBytes, size - total)));
            if (got.n !== got.buffer.byteLength)
                throw new ChordError('io', `${name ?? 'source'}: ended after ${total + got.n} of ${size} bytes`);
            regions.push(got.buffer);
            total += got.n;
        }
        return new RegionStore(regions, name);
    }

    readSync(off, dst) {
        checkSpan(this, off, dst.length);
        let lo = 0, hi = this.starts.length - 1;
        while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (this.starts[mid] <= off) lo = mid; else hi = mid - 1; }
        for (let i = lo, done = 0; done < dst.length; i++) {
            const r = this.regions[i], from = off + done - this.starts[i];
            const n = Math.min(r.byteLength - from, dst.length - done);
            dst.set(r.subarray(from, from + n), done);
            done += n;
        }
    }

    close() { super.close(); this.regions = []; }
}

// ---- File / Blob --------------------------------------------------------------------------------

/**
 * A File or Blob read by slices. Synchronous reads use FileReaderSync (dedicated workers in
 * browsers); elsewhere (Node, page main thread) only read() works. A File whose backing file
 * changed or vanished since it was picked fails its reads (NotReadableError) → ChordError('io').
 */
export class BlobStore extends BaseStore {
    constructor(blob) {
        super('blob', blob.name || 'blob');
        this.blob = blob;
        this.size = blob.size;
    }
    get canReadSync() { return typeof FileReaderSync !== 'undefined'; }
    readSync(off, dst) {
        checkSpan(this, off, dst.length);
        if (!this.canReadSync) throw readError(this, off, dst.length, 'no FileReaderSync on this host');
        const reader = new FileReaderSync();
        byPieces(this, off, dst, (pos, len) => {
            this.counters.unpooled_bytes += len; // FileReaderSync makes a buffer per read
            try { return new Uint8Array(reader.readAsArrayBuffer(this.blob.slice(pos, pos + len))); } catch (e) {
                throw readError(this, pos, len, `${e.name ?? 'Error'}: ${e.message}`);
            }
        });
    }
    async fillPiece(buffer, off, len) {
        try {
            const got = await readBlobRange(this.blob, off, len, buffer, undefined, { stallMs: this.stallMs, name: this.name });
            if (got.n !== len) throw new Error(`got ${got.n} bytes`);
            return { buffer: got.buffer, view: new Uint8Array(got.buffer, 0, len) };
        } catch (e) {
            if (e?.stalled) throw readError(this, off, len, e.message);
            // a File whose file changed or vanished fails its stream with a bare "network error"
            throw readError(this, off, len, `${e.name ?? 'Error'}: ${e.message} (the file cannot be read: ` +
                'changed, moved or deleted since it was picked?)');
        }
    }
    read(off, len) { return readByFill(this, off, len); }
    close() { super.close(); this.blob = null; }
}

// ---- HTTP Range --------------------------------------------------------------------------------

/**
 * A URL read by HTTP Range requests (the model streams from the network, nothing is stored).
 * open() learns the size from a one-byte Range request; a server that ignores Range (200) is
 * refused. Every answer must be 206 with exactly the asked-for bytes. Synchronous reads use a
 * synchronous XMLHttpRequest (allowed in workers); Node has only read().
 */
export class RangeStore extends BaseStore {
    constructor(url, { headers } = {}) {
        super('range', String(url).split(/[?#]/)[0].split('/').pop() || String(url));
        this.url = String(url);
        this.headers = headers ?? {};
        this.stallMs = STALL_MS_NETWORK;
    }
    get canReadSync() { return typeof XMLHttpRequest !== 'undefined' && typeof WorkerGlobalScope !== 'undefined'; }

    async open() {
        let r;
        try {
            r = await fetchWithin(this.url, { headers: { ...this.headers, Range: 'bytes=0-0' } }, this.stallMs, this.url);
        } catch (e) {
            if (e?.stalled) throw new ChordError('io', `range store ${this.url}: ${e.message}`);
            throw new ChordError('io', `range store ${this.url}: request failed: ${e.message}`);
        }
        await r.body?.cancel().catch(() => {});
        if (r.status === 200)
            throw new ChordError('unsupported', `range store ${this.url}: the server ignores Range requests (HTTP 200)`);
        const m = r.status === 206 && /^bytes 0-0\/(\d+)$/.exec(r.headers.get('content-range') ?? '');
        if (!m) throw new ChordError('io', `range store ${this.url}: HTTP ${r.status}, Content-Range ${r.headers.get('content-range')}`);
        this.size = Number(m[1]);
        this.validator = r.headers.get('etag') ?? r.headers.get('last-modified');
    }

    #check(status, got, off, len, contentRange) {
        if (status !== 206) throw readError(this, off, len, `HTTP ${status}`);
        if (contentRange !== null && contentRange !== undefined && !contentRange.startsWith(`bytes ${off}-${off + len - 1}/`))
            throw readError(this, off, len, `Content-Range ${contentRange}`);
        if (got !== len) throw readError(this, off, len, `got ${got} bytes`);
    }

    readSync(off, dst) {
        checkSpan(this, off, dst.length);
        if (!this.canReadSync) throw readError(this, off, dst.length, 'no synchronous XMLHttpRequest on this host');
        byPieces(this, off, dst, (pos, len) => {
            const x = new XMLHttpRequest();
            try {
                x.open('GET', this.url, false);
                x.responseType = 'arraybuffer';
                // a whole-request limit (a synchronous request reports no progress), allowed in workers
                x.timeout = this.stallMs;
                for (const [k, v] of Object.entries(this.headers)) x.setRequestHeader(k, v);
                x.setRequestHeader('Range', `bytes=${pos}-${pos + len - 1}`);
                x.send();
            } catch (e) {
                throw readError(this, pos, len, `request failed: ${e.message}`);
            }
            const body = x.response instanceof ArrayBuffer ? x.response : new ArrayBuffer(0);
            this.counters.unpooled_bytes += body.byteLength; // a synchronous XHR makes a buffer per read
            this.#check(x.status, body.byteLength, pos, len, x.getResponseHeader('content-range'));
            return new Uint8Array(body);
        });
    }

    read(off, len) { return readByFill(this, off, len); }

    // The answer's status and Content-Range are checked before its body is read; a wrong answer's
    // body is cancelled at once (not left for the collector), a right one is read into staging.
    async fillPiece(buffer, off, len) {
        let r;
        try {
            r = await fetchWithin(this.url, { headers: { ...this.headers, Range: `bytes=${off}-${off + len - 1}` } },
                this.stallMs, this.url);
        } catch (e) {
            throw readError(this, off, len, e?.stalled ? e.message : `request failed: ${e.message}`);
        }
        try {
            this.#check(r.status, len, off, len, r.headers.get('content-range'));
            const cl = r.headers.get('content-length');
            if (cl !== null && Number(cl) !== len) this.#check(r.status, Number(cl), off, len, null);
            if (!r.body) throw readError(this, off, len, 'the answer has no body');
        } catch (e) {
            await r.body?.cancel().catch(() => {});
            throw e;
        }
        try {
            return await streamPiece(this, r.body, buffer, off, len);
        } catch (e) {
            throw readError(this, off, len, e.message);
        }
    }
}

// ---- Node: a file path --------------------------------------------------------------------------

/** A file read with positioned reads (fs.readSync at an offset; no stream, no whole copy). */
export class PathStore extends BaseStore {
    constructor(path) {
        super('path', String(path).split(/[\\/]/).pop());
        this.path = path;
        this.fd = null;
    }
    async open() {
        this.fs = await import('node:fs');
        try {
            this.fd = this.fs.openSync(this.path, 'r');
            const st = this.fs.fstatSync(this.fd);
            if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
            this.size = st.size;
        } catch (e) {
            if (this.fd !== null) this.fs.closeSync(this.fd);
            this.fd = null;
            throw new ChordError('io', `cannot open model file ${this.path}: ${e.code || e.message}`);
        }
    }
    readSync(off, dst) {
        checkSpan(this, off, dst.length);
        for (let done = 0; done < dst.length;) {
            const len = Math.min(PIECE_BYTES, dst.length - done);
            let n;
            try { n = this.fs.readSync(this.fd, dst, done, len, off + done); } catch (e) {
                throw readError(this, off + done, len, e.code || e.message);
            }
            if (n === 0) throw readError(this, off + done, len, 'the file ended early (truncated since it was opened?)');
            done += n;
        }
    }
    close() {
        if (this.fd !== null && !this.closed) this.fs.closeSync(this.fd);
        super.close();
    }
}
