// sources.js — where model bytes come from. Every source kind (URL, File/Blob, ArrayBuffer or
// typed array, a file path in Node) becomes the same shape: { name, size, chunks(signal) } where
// chunks() is an async iterator of Uint8Array pieces in file order. Nothing here ever holds the
// whole file in one buffer: URLs stream through body.getReader() (Chromium cannot make one
// ArrayBuffer above ~1.9 GiB from fetch), Blobs through stream() or slice(), paths through fs streams, and
// caller buffers are walked as views. Each chunk handed out is a fresh buffer the caller may
// transfer to a worker (caller buffers are copied slice by slice for that reason).

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

function checkSignal(signal) {
    if (signal?.aborted) throw cancelled(signal);
}

function isUrlLike(s) {
    return /^(https?|blob|data|file):/i.test(s);
}

// Re-chunks an async iterator of Uint8Arrays into pieces of at most CHUNK_BYTES that own their
// buffer (so they can be transferred), checking the signal between pieces.
async function* ownedChunks(iter, signal) {
    for await (const c of iter) {
        checkSignal(signal);
        for (let off = 0; off < c.byteLength; off += CHUNK_BYTES) {
            const part = c.subarray(off, Math.min(c.byteLength, off + CHUNK_BYTES));
            const owned = part.byteOffset === 0 && part.byteLength === part.buffer.byteLength &&
                !(typeof SharedArrayBuffer !== 'undefined' && part.buffer instanceof SharedArrayBuffer);
            yield owned ? part : part.slice();
        }
    }
}

// ---- URL: fetch + body.getReader() -------------------------------------------------------------

function fromUrl(url, opts) {
    let response = null;
    const src = {
        kind: 'url',
        name: String(url).split(/[?#]/)[0].split('/').pop() || String(url),
        size: null,
        async open(signal) {
            try {
                response = await fetch(url, { signal, headers: opts.headers, credentials: opts.credentials });
            } catch (e) {
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
        async *chunks(signal) {
            const reader = response.body.getReader();
            const onAbort = () => reader.cancel().catch(() => {});
            signal?.addEventListener('abort', onAbort, { once: true });
            try {
                for (;;) {
                    let r;
                    try {
                        r = await reader.read();
                    } catch (e) {
                        if (signal?.aborted) throw cancelled(signal);
                        throw new ChordError('io', `reading ${url}: ${e.message}`);
                    }
                    checkSignal(signal);
                    if (r.done) return;
                    yield* ownedChunks([r.value], signal);
                }
            } finally {
                signal?.removeEventListener('abort', onAbort);
                reader.releaseLock?.();
            }
        },
    };
    return src;
}

// ---- Blob / File: stream() (2.5x faster than slice() in Chromium), else slice() pieces -------

function fromBlob(blob) {
    return {
        kind: 'blob',
        name: blob.name || 'blob',
        size: blob.size,
        async open() {},
        async *chunks(signal) {
            if (typeof blob.stream === 'function') {
                const reader = blob.stream().getReader();
                try {
                    for (;;) {
                        let r;
                        try {
                            r = await reader.read();
                        } catch (e) {
                            throw new ChordError('io', `reading ${blob.name || 'blob'}: ${e.message}`);
                        }
                        checkSignal(signal);
                        if (r.done) return;
                        yield* ownedChunks([r.value], signal);
                    }
                } finally {
                    reader.cancel().catch(() => {});
                }
            }
            for (let off = 0; off < blob.size; off += CHUNK_BYTES) {
                checkSignal(signal);
                let buf;
                try {
                    buf = await blob.slice(off, Math.min(blob.size, off + CHUNK_BYTES)).arrayBuffer();
                } catch (e) {
                    throw new ChordError('io', `reading ${blob.name || 'blob'} at offset ${off}: ${e.message}`);
                }
                yield new Uint8Array(buf);
            }
        },
    };
}

// ---- caller memory: views copied slice by slice (the caller's buffer is never detached) --------

function fromBytes(bytes) {
    return {
        kind: 'bytes',
        name: 'buffer',
        size: bytes.byteLength,
        async open() {},
        async *chunks(signal) {
            for (let off = 0; off < bytes.byteLength; off += CHUNK_BYTES) {
                checkSignal(signal);
                yield bytes.slice(off, Math.min(bytes.byteLength, off + CHUNK_BYTES));
            }
        },
    };
}

// ---- Node file path: fs.createReadStream --------------------------------------------------------

function fromPath(path) {
    const src = {
        kind: 'path',
        name: String(path).split(/[\\/]/).pop(),
        size: null,
        async open() {
            const fs = await import('node:fs');
            try {
                const st = await fs.promises.stat(path);
                if (!st.isFile()) throw new Error('not a regular file');
                src.size = st.size;
            } catch (e) {
                throw new ChordError('io', `cannot open model file ${path}: ${e.code || e.message}`);
            }
            src._fs = fs;
        },
        async *chunks(signal) {
            const stream = src._fs.createReadStream(path, { highWaterMark: CHUNK_BYTES, signal });
            try {
                yield* ownedChunks(stream, signal);
            } catch (e) {
                if (signal?.aborted) throw cancelled(signal);
                if (e instanceof ChordError) throw e;
                throw new ChordError('io', `reading ${path}: ${e.code || e.message}`);
            } finally {
                stream.destroy();
            }
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
    if (typeof Blob !== 'undefined' && source instanceof Blob) return fromBlob(source);
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
 * Streams a source: opens it, then yields chunks while calling onProgress({ loaded, total })
 * after each one (total is null when the size is unknown). The signal stops it between chunks.
 */
export async function* readSource(src, { signal, onProgress } = {}) {
    checkSignal(signal);
    await src.open(signal);
    let loaded = 0;
    onProgress?.({ loaded, total: src.size });
    for await (const chunk of src.chunks(signal)) {
        loaded += chunk.byteLength;
        if (src.size !== null && loaded > src.size)
            throw new ChordError('io', `${src.name}: got more bytes (${loaded}) than its size (${src.size})`);
        yield chunk;
        onProgress?.({ loaded, total: src.size });
    }
    if (src.size !== null && loaded !== src.size)
        throw new ChordError('io', `${src.name}: stream ended after ${loaded} of ${src.size} bytes`);
}
