// store_bridge.js — a store that lives in a helper worker (store_helper.js), so it can be read
// while the engine thread is inside a wasm call:
//
// - readSync() (the engine's env.chord_host_read): posts the request through a SharedArrayBuffer,
//   then blocks in Atomics.wait until the helper has read the piece into a shared slot. This is
//   how a store that reads only asynchronously (the fetch-based Range store in Node) serves a
//   synchronous read.
// - prefetch() (env.chord_host_read_async, paged weights): posts { off, dst, len, state } and
//   returns at once; the helper reads the bytes straight into the engine's wasm memory (given
//   at create()) while the engine computes, moving the slot's state word with compare-and-swap
//   (chord.h, chord_source.read_async: PENDING → WRITING → PENDING … DONE | FAILED) and
//   Atomics.notify; the engine waits on that word only if the layer is not there yet.
//
// Control words (Int32Array on a SharedArrayBuffer): [0] state, [1] offset low 32 bits,
// [2] offset high bits, [3] length (or, on error, the message's byte length), [4] and [5] the
// end of the span this piece belongs to (low, high: a read longer than the slot comes as
// several requests, and the helper reads the next pieces ahead while each one is copied out
// of the slot). The slot holds
// the bytes, or the UTF-8 error message. `stats` (Float64Array, shared): async reads done,
// bytes, ms spent reading them, failed, cancelled; the store's staging counters (stores.js).

import { ChordError } from './errors.js';
import { PIECE_BYTES, readError } from './stores.js';

const IDLE = 0, REQUEST = 1, DONE = 2, FAILED = 3, QUIT = 4, DRAIN = 5, CLOSED = 6;
// 16 MiB in 5 minutes is 56 KB/s: slower than that, the helper is taken for dead.
const HELPER_TIMEOUT_MS = 300000;
const CLOSE_WAIT_MS = 2000;
const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof globalThis.WorkerGlobalScope === 'undefined';

export class BridgedStore {
    constructor(kind, name, size, worker, ctrl, slot, stats, post) {
        Object.assign(this, { kind, name, size, worker, ctrl, slot, stats, post, closed: false });
    }
    get canReadSync() { return true; }

    /** Starts the helper with the store described by `desc` and opens it there: { kind: 'range',
     *  url, headers }, { kind: 'blob', blob } (where a Blob can be read from any thread),
     *  { kind: 'path', path }, { kind: 'regions', regions, name } (`transfer` moves them) or
     *  { kind: 'opfs', url } (a complete cached copy). `memory` (the engine's shared
     *  WebAssembly.Memory) enables prefetch(). */
    static async create(desc, { transfer = [], memory = null } = {}) {
        if (typeof SharedArrayBuffer === 'undefined')
            throw new ChordError('unsupported', 'a bridged store needs SharedArrayBuffer');
        const ctrl = new Int32Array(new SharedArrayBuffer(24));
        const pieceBytes = desc.pieceBytes || PIECE_BYTES;
        const slot = new Uint8Array(new SharedArrayBuffer(pieceBytes));
        const stats = new Float64Array(new SharedArrayBuffer(8 * STAT_FIELDS.length));
        const url = new URL('./store_helper.js', import.meta.url);
        let worker, onMessage;
        if (isNode) {
            const { Worker } = await import('node:worker_threads');
            worker = new Worker(url);
            worker.unref();
            onMessage = (fn) => { worker.on('message', fn); worker.on('error', (e) => fn({ error: { code: 'internal', message: e.message } })); };
        } else {
            worker = new Worker(url, { type: 'module' });
            onMessage = (fn) => { worker.onmessage = (e) => fn(e.data); worker.onerror = (e) => fn({ error: { code: 'internal', message: e.message } }); };
        }
        const ready = await new Promise((resolve) => { onMessage(resolve); worker.postMessage({ desc, ctrl, slot, stats, memory }, transfer); });
        if (ready.error) {
            worker.terminate();
            throw new ChordError(ready.error.code, ready.error.message);
        }
        const b = new BridgedStore(ready.kind, ready.name, ready.size, worker, ctrl, slot, stats,
            memory ? (m) => worker.postMessage(m) : null);
        b.pieceBytes = pieceBytes;
        return b;
    }

    /** Starts an asynchronous read of len bytes at off into wasm memory at dst; the helper moves
     *  the i32 word at stateAddr. → 0 (started) or 4 (unsupported: no memory was given). */
    prefetch(off, dst, len, stateAddr) {
        if (!this.post || this.closed) return 4;
        this.post({ op: 'prefetch', off, dst, len, state: stateAddr });
        return 0;
    }

    /** Synchronous (engine thread, env.chord_host_drain, when a paged model is freed): returns
     *  once the helper will never touch wasm memory for an earlier prefetch() again — queued
     *  reads are dropped, a piece being copied finishes first. */
    drain() {
        if (!this.post || this.closed) return;
        const c = this.ctrl, t0 = Date.now();
        Atomics.store(c, 0, DRAIN);
        Atomics.notify(c, 0);
        while (Atomics.load(c, 0) === DRAIN) {
            Atomics.wait(c, 0, DRAIN, 1000);
            if (Atomics.load(c, 0) === DRAIN && Date.now() - t0 > HELPER_TIMEOUT_MS) {
                // a helper that never answers is ended, so it cannot write later
                this.close();
                return;
            }
        }
        this.post = null; // no more prefetches from this store
    }

    /** The helper's counters of asynchronous reads. */
    asyncStats() {
        const o = {};
        STAT_FIELDS.forEach((k, i) => { o[k] = this.stats[i]; });
        return o;
    }

    async open() {}

    readSync(off, dst) {
        if (this.closed) throw readError(this, off, dst.length, 'the store is closed');
        const c = this.ctrl, end = off + dst.length;
        c[4] = end % 2 ** 32;
        c[5] = Math.floor(end / 2 ** 32);
        for (let done = 0; done < dst.length;) {
            const len = Math.min(this.pieceBytes, dst.length - done), at = off + done;
            c[1] = at % 2 ** 32;
            c[2] = Math.floor(at / 2 ** 32);
            c[3] = len;
            Atomics.store(c, 0, REQUEST);
            Atomics.notify(c, 0);
            // A helper that died never answers: give up after HELPER_TIMEOUT_MS without one.
            const t0 = Date.now();
            while (Atomics.load(c, 0) === REQUEST) {
                Atomics.wait(c, 0, REQUEST, 1000);
                if (Atomics.load(c, 0) === REQUEST && Date.now() - t0 > HELPER_TIMEOUT_MS) {
                    this.close();
                    throw readError(this, at, len, `the store helper gave no answer in ${HELPER_TIMEOUT_MS / 1000} s`);
                }
            }
            const state = Atomics.load(c, 0);
            if (state === FAILED) {
                const msg = new TextDecoder().decode(this.slot.slice(0, c[3]));
                Atomics.store(c, 0, IDLE);
                throw new ChordError('io', msg);
            }
            dst.set(this.slot.subarray(0, len), done);
            Atomics.store(c, 0, IDLE);
            done += len;
        }
    }

    async read(off, len) {
        const dst = new Uint8Array(len);
        this.readSync(off, dst);
        return dst;
    }

    // Synchronous, on the engine thread. The helper closes its store and says CLOSED before it is
    // terminated: an OPFS sync access handle is exclusive, and a terminated worker's handle is let
    // go only some time later, so a load of the same URL right after dispose() failed with
    // NoModificationAllowedError. A helper busy in a read gets CLOSE_WAIT_MS.
    close() {
        if (this.closed) return;
        this.closed = true;
        const c = this.ctrl, t0 = Date.now();
        Atomics.store(c, 0, QUIT);
        Atomics.notify(c, 0);
        while (Atomics.load(c, 0) === QUIT && Date.now() - t0 < CLOSE_WAIT_MS) Atomics.wait(c, 0, QUIT, 50);
        this.worker.terminate();
    }
}

export const BRIDGE_STATES = { IDLE, REQUEST, DONE, FAILED, QUIT, DRAIN, CLOSED };
export const STAT_FIELDS = ['async_reads', 'async_bytes', 'async_read_ms', 'async_failed', 'async_cancelled',
    'store_staging_buffers', 'store_unpooled_bytes', 'store_pieces', 'store_reads_in_flight_max', 'store_reopened'];
