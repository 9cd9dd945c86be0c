// store_helper.js — the helper worker of store_bridge.js: owns a store and serves two kinds of
// requests while the engine thread is busy inside wasm:
//
// - synchronous reads: waits (Atomics.waitAsync, so its event loop stays free for the reads) for
//   a request in the shared control words, reads the piece into the shared slot, and wakes the
//   engine thread; for a span longer than the slot (a layer) a Blob or Range store reads the
//   next pieces ahead, two in flight (serveSpan), while the engine copies each one out;
// Network and Blob stores read each piece into one of their two staging buffers (stores.js,
// withPiece / readPieces), so no read leaves a buffer behind for the collector.
// - asynchronous slot reads (messages { op: 'prefetch', off, dst, len, state }): reads the bytes
//   straight into the engine's wasm memory and moves the slot's state word (chord.h,
//   chord_source.read_async): before each piece is written, compare-and-swap PENDING → WRITING
//   (if the engine cancelled, the word is no longer PENDING and nothing is written), then
//   PENDING again, DONE after the last piece, FAILED on an error; Atomics.notify after each.
//
// See store_bridge.js for the protocol of the control words.

import { BlobStore, RangeStore, PathStore, RegionStore, PIECE_BYTES } from './stores.js';
import { BRIDGE_STATES as S, STAT_FIELDS } from './store_bridge.js';

const PENDING = 1, DONE = 2, WRITING = 3, FAILED = 4; // CHORD_ASYNC_* (include/chord.h)
const STAT = Object.fromEntries(STAT_FIELDS.map((k, i) => [k, i]));

let post, onFirst, onMessage;
if (typeof process !== 'undefined' && process.versions?.node && typeof globalThis.WorkerGlobalScope === 'undefined') {
    const wt = await import('node:worker_threads');
    post = (m) => wt.parentPort.postMessage(m);
    onFirst = (fn) => wt.parentPort.once('message', fn);
    onMessage = (fn) => wt.parentPort.on('message', fn);
} else {
    post = (m) => self.postMessage(m);
    onFirst = (fn) => self.addEventListener('message', (e) => fn(e.data), { once: true });
    onMessage = (fn) => self.addEventListener('message', (e) => fn(e.data));
}

// A 64-bit offset from two control words (low unsigned, high).
const word64 = (ctrl, i) => (ctrl[i] >>> 0) + ctrl[i + 1] * 2 ** 32;

async function waitWhile(ctrl, value) {
    const w = Atomics.waitAsync(ctrl, 0, value);
    if (w.async) await w.value;
}

// The request at hand is the first piece of [off, end): the store reads the span's pieces with
// two in flight (stores.js readPieces), so the next piece's round trip (a Blob slice or a Range
// request) overlaps the engine copying this one out of the slot. Each later piece is handed over
// when the engine asks for it; a request for anything else ends the span here (the main loop
// serves it). A failed read answers the request at hand, or the next one if that was answered.
// `asked` is false while the engine has an answered request and has not sent the next.
async function serveSpan(store, ctrl, slot, off, end, stats, fail) {
    let asked = true;
    const nextRequest = async () => {
        for (;;) {
            const st = Atomics.load(ctrl, 0);
            if (st === S.REQUEST) return true;
            if (st === S.QUIT || st === S.DRAIN) return false;
            await waitWhile(ctrl, st);
        }
    };
    try {
        await store.readPieces(off, end - off, async (bytes, at) => {
            if (!asked) {
                if (!await nextRequest()) return 'stop';
                asked = true;
                if (word64(ctrl, 1) !== off + at || ctrl[3] !== bytes.length) return 'stop';
            }
            slot.set(bytes);
            asked = false;
            counters(store, stats);
            Atomics.store(ctrl, 0, S.DONE);
            Atomics.notify(ctrl, 0);
        });
    } catch (e) {
        if (asked || await nextRequest()) fail(e);
    }
}

async function openStore(desc) {
    const s = await newStore(desc);
    if (desc.pieceBytes) s.pieceBytes = desc.pieceBytes;
    if (desc.stallMs !== undefined) s.stallMs = desc.stallMs;
    return s;
}

async function newStore(desc) {
    if (desc.kind === 'blob') return new BlobStore(desc.blob);
    if (desc.kind === 'range') return new RangeStore(desc.url, { headers: desc.headers });
    if (desc.kind === 'path') return new PathStore(desc.path);
    if (desc.kind === 'regions') return new RegionStore(desc.regions, desc.name);
    if (desc.kind === 'opfs') return (await import('./opfs.js')).openCached(desc.url);
    throw new Error(`unknown store kind ${desc.kind}`);
}

// Stores whose synchronous read fills a view of wasm memory directly (a local copy or a
// positioned read); the others (network, Blob) read a piece first, then copy it in.
const DIRECT = new Set(['path', 'opfs', 'regions']);

// The store's staging counters (stores.js) into the shared stats, for cacheStats().
function counters(store, stats) {
    const c = store.counters;
    if (!c) return;
    stats[STAT.store_staging_buffers] = c.staging_buffers;
    stats[STAT.store_unpooled_bytes] = c.unpooled_bytes;
    stats[STAT.store_pieces] = c.pieces;
    stats[STAT.store_reads_in_flight_max] = c.reads_in_flight_max;
}

// An OPFS handle closed under the store (opfs.js: lost) is opened again before the next read,
// here where the event loop is free: the engine's demand read of the layer whose prefetch failed
// then succeeds, so one lost handle costs one stall, not the generate. A copy that cannot be
// opened again fails that read with io (which the engine reports with the layer and offset).
async function heal(store, stats) {
    if (store.lost && await store.reopen()) stats[STAT.store_reopened] = store.reopened;
}

function asyncReader(store, memory, stats, drained) {
    const word = (addr) => new Int32Array(memory.buffer, addr, 1);
    const wake = (w, v) => { Atomics.store(w, 0, v); Atomics.notify(w, 0); };
    return async ({ off, dst, len, state }) => {
        const t0 = performance.now();
        await heal(store, stats);
        const direct = DIRECT.has(store.kind) && store.canReadSync;
        const w = word(state);
        // Writes the piece [at, at + n) of the span: only after the compare-and-swap, so a
        // cancelled read touches nothing (and after a drain the engine may have freed this slot:
        // touch nothing either). bytes = the piece from a staging buffer, or null: read it
        // straight into the slot. → 'ok' | 'cancelled' | 'failed'
        const put = (at, n, bytes) => {
            if (drained.value) return 'cancelled';
            if (Atomics.compareExchange(w, 0, PENDING, WRITING) !== PENDING) return 'cancelled';
            try {
                const view = new Uint8Array(memory.buffer, dst + at, n);
                if (bytes) view.set(bytes); else store.readSync(off + at, view);
            } catch {
                wake(w, FAILED);
                return 'failed';
            }
            if (at + n === len) {
                // counted before DONE is stored: the engine may report its stats right after
                stats[STAT.async_reads]++;
                stats[STAT.async_bytes] += len;
                stats[STAT.async_read_ms] += performance.now() - t0;
            }
            wake(w, at + n === len ? DONE : PENDING);
            return 'ok';
        };
        let outcome = 'ok';
        try {
            if (direct) {
                const step = store.pieceBytes ?? PIECE_BYTES;
                for (let at = 0; at < len && outcome === 'ok'; at += step) outcome = put(at, Math.min(step, len - at), null);
            } else {
                // a store without a direct read (Blob, Range) reads the next piece into its other
                // staging buffer while this one is copied in (stores.js readPieces)
                outcome = await store.readPieces(off, len, (bytes, at) => put(at, bytes.length, bytes));
            }
        } catch {
            if (drained.value) { stats[STAT.async_cancelled]++; return; }
            // the engine reads this layer again on demand and reports the error itself
            if (Atomics.compareExchange(w, 0, PENDING, FAILED) === PENDING) Atomics.notify(w, 0);
            stats[STAT.async_failed]++;
            return;
        } finally { counters(store, stats); }
        if (outcome === 'cancelled') stats[STAT.async_cancelled]++;
        if (outcome === 'failed') stats[STAT.async_failed]++;
    };
}

onFirst(async ({ desc, ctrl, slot, stats, memory }) => {
    let store;
    try {
        store = await openStore(desc);
        await store.open();
    } catch (e) {
        post({ error: { code: e?.code ?? 'io', message: e?.message ?? String(e) } });
        return;
    }
    const drained = { value: false };
    if (memory) {
        const read = asyncReader(store, memory, stats, drained);
        // Requests are served in arrival order, one at a time (each is a whole layer).
        let chain = Promise.resolve();
        // An unexpected throw must not break the chain (every later request would go unanswered
        // and each acquire would stall for the engine's patience): that read is FAILED, so the
        // engine reads the layer itself and reports what is wrong.
        const failed = (m) => {
            stats[STAT.async_failed]++;
            if (drained.value) return;
            try {
                const w = new Int32Array(memory.buffer, m.state, 1);
                if (Atomics.compareExchange(w, 0, PENDING, FAILED) === PENDING) Atomics.notify(w, 0);
            } catch { /* a bad state address: the engine's patience takes the read back */ }
        };
        onMessage((m) => { if (m?.op === 'prefetch') chain = chain.then(() => read(m)).catch(() => failed(m)); });
    }
    post({ kind: store.kind, name: store.name, size: store.size });
    // A pending Atomics.waitAsync is not an event-loop handle: without this timer Node would end
    // the worker as soon as it waits for the next request.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    const enc = new TextEncoder();
    const fail = (e) => {
        counters(store, stats);
        const m = enc.encode(e?.message ?? String(e)).subarray(0, slot.length);
        slot.set(m);
        ctrl[3] = m.length;
        Atomics.store(ctrl, 0, S.FAILED);
        Atomics.notify(ctrl, 0);
    };
    for (;;) {
        const st = Atomics.load(ctrl, 0);
        if (st === S.QUIT) break;
        if (st === S.DRAIN) {
            // JS runs one task at a time here: no piece is being copied now, and every read still
            // queued or awaiting its bytes sees the flag before it touches memory
            drained.value = true;
            Atomics.store(ctrl, 0, S.IDLE);
            Atomics.notify(ctrl, 0);
            continue;
        }
        if (st !== S.REQUEST) { await waitWhile(ctrl, st); continue; }
        const off = word64(ctrl, 1), len = ctrl[3], end = word64(ctrl, 4);
        if (!DIRECT.has(store.kind) && end > off + len && end <= store.size) {
            await serveSpan(store, ctrl, slot, off, end, stats, fail);
            continue;
        }
        const readInto = async () => {
            if (DIRECT.has(store.kind) && store.canReadSync) store.readSync(off, slot.subarray(0, len));
            else await store.withPiece(off, len, (bytes) => slot.set(bytes));
        };
        try {
            try {
                await heal(store, stats);
                await readInto();
            } catch (e) {
                if (!store.lost) throw e;
                // the handle was closed under this very read: once more from the copy opened again
                await heal(store, stats);
                await readInto();
            }
            counters(store, stats);
            Atomics.store(ctrl, 0, S.DONE);
            Atomics.notify(ctrl, 0);
        } catch (e) {
            fail(e);
        }
    }
    clearInterval(keepAlive);
    store.close();
    Atomics.store(ctrl, 0, S.CLOSED); // the engine thread waits for this before terminating us
    Atomics.notify(ctrl, 0);
});
