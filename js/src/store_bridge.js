// store_bridge.js — a synchronous read over a store that can only read asynchronously (the
// fetch-based Range store in Node): the store lives in a helper worker, and readSync() on the
// engine thread posts the request through a SharedArrayBuffer, then blocks in Atomics.wait until
// the helper has read the piece into a shared slot. This is the "engine waits on an atomic while
// the host fills a slot" half of the prefetch design; the helper runs only when asked.
//
// Control words (Int32Array on a SharedArrayBuffer): [0] state, [1] offset low 32 bits,
// [2] offset high bits, [3] length (or, on error, the message's byte length). The slot holds
// the bytes, or the UTF-8 error message.

import { ChordError } from './errors.js';
import { PIECE_BYTES, readError } from './stores.js';

const IDLE = 0, REQUEST = 1, DONE = 2, FAILED = 3, QUIT = 4;
// 16 MiB in 5 minutes is 56 KB/s: slower than that, the helper is taken for dead.
const HELPER_TIMEOUT_MS = 300000;
const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof globalThis.WorkerGlobalScope === 'undefined';

export class BridgedStore {
    constructor(kind, name, size, worker, ctrl, slot) {
        Object.assign(this, { kind, name, size, worker, ctrl, slot, closed: false });
    }
    get canReadSync() { return true; }

    /** Starts the helper with the store described by `desc` ({ kind: 'range', url, headers };
     *  the helper also takes { kind: 'blob', blob } where a Blob can be read from any thread)
     *  and opens it there. */
    static async create(desc) {
        if (typeof SharedArrayBuffer === 'undefined')
            throw new ChordError('unsupported', 'a bridged store needs SharedArrayBuffer');
        const ctrl = new Int32Array(new SharedArrayBuffer(16));
        const slot = new Uint8Array(new SharedArrayBuffer(PIECE_BYTES));
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
        const ready = await new Promise((resolve) => { onMessage(resolve); worker.postMessage({ desc, ctrl, slot }); });
        if (ready.error) {
            worker.terminate();
            throw new ChordError(ready.error.code, ready.error.message);
        }
        return new BridgedStore(ready.kind, ready.name, ready.size, worker, ctrl, slot);
    }

    async open() {}

    readSync(off, dst) {
        if (this.closed) throw readError(this, off, dst.length, 'the store is closed');
        const c = this.ctrl;
        for (let done = 0; done < dst.length;) {
            const len = Math.min(PIECE_BYTES, dst.length - done), at = off + done;
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

    close() {
        if (this.closed) return;
        this.closed = true;
        Atomics.store(this.ctrl, 0, QUIT);
        Atomics.notify(this.ctrl, 0);
        this.worker.terminate();
    }
}

export const BRIDGE_STATES = { IDLE, REQUEST, DONE, FAILED, QUIT };
