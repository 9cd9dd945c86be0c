// opfs.js — the Origin Private File System as a model cache: a URL is downloaded once into OPFS
// and read from there on every later visit with no network (OpfsStore, the stores.js interface
// over a FileSystemSyncAccessHandle).
//
// Files live in the directory `wasm-chord-models/`: `<key>` holds the bytes and `<key>.json` the
// record { url, size, validator, complete }. A copy is trusted only when its record says complete,
// names the same URL, and the file has the recorded size and starts with the GGUF magic. The
// record is written with complete: false before the first data byte, so an interrupted download
// is never trusted (the bug of wllama #268): the next load resumes it with a Range request
// guarded by If-Range (the server's ETag or Last-Modified), or starts over when the server's
// copy changed or it cannot resume. A quota error deletes the partial copy and is reported as
// ChordError('nomem'). Downloads and reads need a dedicated worker (sync access handles); the
// status, list and delete helpers work on any thread.

import { ChordError } from './errors.js';
import { readError } from './stores.js';
import { fetchWithin, readWithin, STALL_MS_NETWORK } from './sources.js';

const DIR = 'wasm-chord-models';
const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46];

export async function cacheDir() {
    if (!globalThis.navigator?.storage?.getDirectory)
        throw new ChordError('unsupported', 'this host has no Origin Private File System (navigator.storage.getDirectory)');
    const root = await navigator.storage.getDirectory();
    return root.getDirectoryHandle(DIR, { create: true });
}

/** The OPFS file name of a URL: its base name plus 64 bits of SHA-256 of the whole URL. */
export async function cacheKey(url) {
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(String(url))));
    const hex = Array.from(h.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
    const base = String(url).split(/[?#]/)[0].split('/').pop().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'model';
    return `${base}.${hex}`;
}

async function readRecord(dir, key) {
    try {
        const f = await (await dir.getFileHandle(key + '.json')).getFile();
        return JSON.parse(await f.text());
    } catch { return null; }
}

async function writeRecord(dir, key, rec) {
    const h = await (await dir.getFileHandle(key + '.json', { create: true })).createSyncAccessHandle();
    try {
        const bytes = new TextEncoder().encode(JSON.stringify(rec));
        h.truncate(0);
        h.write(bytes, { at: 0 });
        h.flush();
    } finally { h.close(); }
}

async function removeEntries(dir, key) {
    for (const n of [key + '.json', key]) await dir.removeEntry(n).catch(() => {});
}

function magicOk(bytes) { return bytes.length >= 4 && GGUF_MAGIC.every((b, i) => bytes[i] === b); }

/** { url, key, cached, bytes, size, inUse } — cached: a complete, checked copy is there. */
export async function cacheStatus(url) {
    const dir = await cacheDir();
    const key = await cacheKey(url);
    const rec = await readRecord(dir, key);
    let bytes = 0, head = new Uint8Array(0), inUse = false;
    try {
        const f = await (await dir.getFileHandle(key)).getFile();
        bytes = f.size;
        head = new Uint8Array(await f.slice(0, 4).arrayBuffer());
    } catch (e) { inUse = e?.name === 'NoModificationAllowedError' || e?.name === 'InvalidStateError'; }
    const cached = !!rec?.complete && rec.url === String(url) && bytes === rec.size && magicOk(head);
    return { url: String(url), key, cached, bytes, size: rec?.size ?? null, inUse };
}

/** Deletes the cached copy of a URL (complete or partial). Fails while a model reads it. */
export async function cacheDelete(url) {
    const dir = await cacheDir();
    const key = await cacheKey(url);
    try {
        await dir.removeEntry(key);
    } catch (e) {
        if (e?.name === 'NotFoundError') { await dir.removeEntry(key + '.json').catch(() => {}); return false; }
        throw new ChordError('io', `cannot delete the cached ${url}: ${e?.name}: ${e?.message} (dispose the model reading it first)`);
    }
    await dir.removeEntry(key + '.json').catch(() => {});
    return true;
}

/** Every cached URL: [{ url, key, size, complete }]. */
export async function cacheList() {
    const dir = await cacheDir();
    const out = [];
    for await (const [name] of dir.entries()) {
        if (!name.endsWith('.json')) continue;
        const rec = await readRecord(dir, name.slice(0, -5));
        if (rec) out.push({ url: rec.url, key: name.slice(0, -5), size: rec.size, complete: !!rec.complete });
    }
    return out;
}

/** A cached model file read with a FileSystemSyncAccessHandle (worker only). */
export class OpfsStore {
    constructor(handle, name, size, url) {
        this.kind = 'opfs';
        this.name = name;
        this.handle = handle;
        this.size = size;
        this.url = url;
        this.closed = false;
        this.lost = false; // the handle was closed under us (not by close()): reopen() may heal it
        this.reopened = 0;
    }
    get canReadSync() { return true; }
    async open() {}
    readSync(off, dst) {
        if (this.closed) throw readError(this, off, dst.length, `the OPFS handle is closed${this.lost ? ' (it was closed under the store)' : ''}`);
        if (!Number.isSafeInteger(off) || off < 0 || off + dst.length > this.size)
            throw readError(this, off, dst.length, `outside the ${this.size}-byte file`);
        let n;
        try { n = this.handle.read(dst, { at: off }); } catch (e) {
            // a sync access handle that was closed elsewhere throws InvalidStateError from now on
            if (e?.name === 'InvalidStateError') { this.closed = true; this.lost = true; }
            throw readError(this, off, dst.length, `${e?.name}: ${e?.message}`);
        }
        if (n !== dst.length) throw readError(this, off, dst.length, `got ${n} bytes (the file is shorter than recorded)`);
    }
    async read(off, len) {
        const dst = new Uint8Array(len);
        this.readSync(off, dst);
        return dst;
    }
    close() {
        if (!this.closed) try { this.handle.close(); } catch { /* already closed */ }
        this.closed = true;
        this.lost = false;
    }
    // After a handle closed under the store: opens the cached copy again (checked as on a load:
    // record, size, GGUF magic), at an asynchronous point before the next read (worker.js before
    // a generate, store_helper.js before serving a request). → true when it reopened; throws io
    // when the copy can no longer be opened. A store closed by close() stays closed. Callers that
    // overlap share one attempt (the sync access handle is exclusive: a second open would fail).
    reopen() {
        if (!this.lost) return Promise.resolve(false);
        this.reopening ??= (async () => {
            const s = await openCached(this.url);
            if (!this.lost) { s.close(); return false; } // close()d meanwhile: stays closed
            if (s.size !== this.size) {
                s.close();
                throw new ChordError('io', `the OPFS copy of ${this.url} changed size (${this.size} -> ${s.size} bytes) while the model read it`);
            }
            this.handle = s.handle;
            this.closed = false;
            this.lost = false;
            this.reopened++;
            return true;
        })().finally(() => { this.reopening = null; });
        return this.reopening;
    }
}

/**
 * Opens the complete, checked cached copy of `url` (record, size, GGUF magic) for reading —
 * in another worker than the one that downloaded it (store_helper.js: paged prefetch). A copy
 * that is not complete is refused with `io`, never read.
 */
export async function openCached(url) {
    url = String(url);
    const dir = await cacheDir();
    const key = await cacheKey(url);
    const rec = await readRecord(dir, key);
    let h;
    try {
        h = await (await dir.getFileHandle(key)).createSyncAccessHandle();
    } catch (e) {
        throw new ChordError('io', `cannot open the OPFS cache file for ${url}: ${e?.name}: ${e?.message}`);
    }
    let size;
    const head = new Uint8Array(4);
    try {
        size = h.getSize();
        if (size >= 4) h.read(head, { at: 0 });
    } catch (e) {
        try { h.close(); } catch { /* closed */ }
        throw new ChordError('io', `cannot read the OPFS cache file for ${url}: ${e?.name}: ${e?.message}`);
    }
    if (!(rec?.complete && rec.url === url && size === rec.size && magicOk(head))) {
        h.close();
        throw new ChordError('io', `the OPFS copy of ${url} is not complete (${size} bytes, record ${JSON.stringify(rec)})`);
    }
    return new OpfsStore(h, url.split(/[?#]/)[0].split('/').pop() || key, size, url);
}

function contentLength(r) {
    const len = r.headers.get('content-length'), enc = r.headers.get('content-encoding');
    return len !== null && (!enc || enc === 'identity') ? Number(len) : null;
}

async function request(url, headers, stallMs) {
    try {
        return await fetchWithin(url, { headers }, stallMs, url);
    } catch (e) {
        throw new ChordError('io', `download of ${url} failed: ${e.message}`);
    }
}

/**
 * Makes sure `url` is in the cache and opens it: → { store, cached, resumedFrom, fetched }.
 * cached: it was complete already (no request made); resumedFrom: the byte a resumed download
 * restarted at (0 = from the start); fetched: bytes that came over the network this time.
 */
export async function downloadToCache(url, { headers = {}, onProgress, stallMs = STALL_MS_NETWORK } = {}) {
    url = String(url);
    const dir = await cacheDir();
    const key = await cacheKey(url);
    const rec = await readRecord(dir, key);
    const name = url.split(/[?#]/)[0].split('/').pop() || key;
    let h, at = 0, size = null, step = 'creating the file';
    // Over the quota at any step (creating the file, writing the record or the bytes): the
    // partial copy and its record are deleted, and the load fails with nomem saying so.
    const quota = async () => {
        try { h?.close(); } catch { /* closed */ }
        await removeEntries(dir, key);
        return new ChordError('nomem', `the OPFS quota is exhausted ${step} after ${at} of ${size ?? '?'} bytes of ${url}; ` +
            'the partial copy was deleted (free storage or load without the cache)');
    };
    try {
        h = await (await dir.getFileHandle(key, { create: true })).createSyncAccessHandle();
    } catch (e) {
        if (e?.name === 'QuotaExceededError') throw await quota();
        throw new ChordError('io', `cannot open the OPFS cache file for ${url}: ${e?.name}: ${e?.message} (is it open in another tab?)`);
    }
    try {
        let have = h.getSize();
        const head = new Uint8Array(4);
        if (have >= 4) h.read(head, { at: 0 });
        if (rec?.complete && rec.url === url && have === rec.size && magicOk(head))
            return { store: new OpfsStore(h, name, have, url), cached: true, resumedFrom: null, fetched: 0 };
        const canResume = rec && rec.url === url && rec.validator && rec.size && have > 0 && have < rec.size;
        if (!canResume) have = 0;
        let r = await request(url, have ? { ...headers, Range: `bytes=${have}-`, 'If-Range': rec.validator } : headers, stallMs);
        const m = r.status === 206 && /^bytes (\d+)-(\d+)\/(\d+)$/.exec(r.headers.get('content-range') ?? '');
        if (have && m && Number(m[1]) === have && Number(m[3]) === rec.size) {
            size = rec.size;
        } else {
            // No resume: the server sent the whole file (If-Range: its copy changed) or could not
            // serve the range, so start over.
            if (have && r.status !== 200) {
                await r.body?.cancel().catch(() => {});
                r = await request(url, headers, stallMs);
            }
            have = 0;
            if (r.status !== 200) throw new ChordError('io', `download of ${url}: HTTP ${r.status} ${r.statusText}`);
            size = contentLength(r);
            h.truncate(0);
        }
        const validator = r.headers.get('etag') ?? r.headers.get('last-modified');
        step = 'writing its record';
        await writeRecord(dir, key, { url, size, validator, complete: false });
        step = 'writing the data';
        const resumedFrom = have;
        at = have;
        onProgress?.({ loaded: at, total: size, resumedFrom });
        const reader = r.body.getReader();
        for (;;) {
            let chunk;
            try {
                chunk = await readWithin(reader, null, stallMs, () => `from ${url} after ${at} bytes`);
            } catch (e) {
                h.flush();
                throw new ChordError('io', `download of ${url} interrupted after ${at} of ${size ?? '?'} bytes ` +
                    `(${e.message}); loading it again resumes at byte ${at}`);
            }
            if (chunk.done) break;
            try {
                const n = h.write(chunk.value, { at });
                if (n !== chunk.value.byteLength) throw Object.assign(new Error('short write'), { name: 'QuotaExceededError' });
            } catch (e) {
                await reader.cancel().catch(() => {});
                if (e?.name === 'QuotaExceededError') throw e; // below
                throw new ChordError('io', `writing the OPFS copy of ${url} at offset ${at} failed: ${e?.name}: ${e?.message}`);
            }
            at += chunk.value.byteLength;
            onProgress?.({ loaded: at, total: size, resumedFrom });
        }
        h.flush();
        if (size !== null && at !== size) {
            throw new ChordError('io', `download of ${url} ended after ${at} of ${size} bytes; loading it again resumes at byte ${at}`);
        }
        const got = new Uint8Array(4);
        if (h.read(got, { at: 0 }) !== 4 || !magicOk(got)) {
            h.close();
            await removeEntries(dir, key);
            throw new ChordError('format', `${url} is not a GGUF file (no GGUF magic); nothing was cached`);
        }
        step = 'writing its record';
        await writeRecord(dir, key, { url, size: at, validator, complete: true });
        return { store: new OpfsStore(h, name, at, url), cached: false, resumedFrom, fetched: at - resumedFrom };
    } catch (e) {
        if (e?.name === 'QuotaExceededError') throw await quota();
        try { h.close(); } catch { /* closed */ }
        throw e;
    }
}
