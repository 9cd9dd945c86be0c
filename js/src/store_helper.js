// store_helper.js — the helper worker of store_bridge.js: owns an asynchronous store (a Blob or a
// Range store where the host has no synchronous read), waits (Atomics.waitAsync, so its event
// loop stays free for the reads) for a request in the shared control words, reads the piece into
// the shared slot, and wakes the engine thread. See store_bridge.js for the protocol.

import { BlobStore, RangeStore } from './stores.js';
import { BRIDGE_STATES as S } from './store_bridge.js';

let post, onFirst;
if (typeof process !== 'undefined' && process.versions?.node && typeof globalThis.WorkerGlobalScope === 'undefined') {
    const wt = await import('node:worker_threads');
    post = (m) => wt.parentPort.postMessage(m);
    onFirst = (fn) => wt.parentPort.once('message', fn);
} else {
    post = (m) => self.postMessage(m);
    onFirst = (fn) => self.addEventListener('message', (e) => fn(e.data), { once: true });
}

async function waitWhile(ctrl, value) {
    const w = Atomics.waitAsync(ctrl, 0, value);
    if (w.async) await w.value;
}

onFirst(async ({ desc, ctrl, slot }) => {
    let store;
    try {
        store = desc.kind === 'blob' ? new BlobStore(desc.blob) : new RangeStore(desc.url, { headers: desc.headers });
        await store.open();
    } catch (e) {
        post({ error: { code: e?.code ?? 'io', message: e?.message ?? String(e) } });
        return;
    }
    post({ kind: store.kind, name: store.name, size: store.size });
    // A pending Atomics.waitAsync is not an event-loop handle: without this timer Node would end
    // the worker as soon as it waits for the next request.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    const enc = new TextEncoder();
    for (;;) {
        const st = Atomics.load(ctrl, 0);
        if (st === S.QUIT) break;
        if (st !== S.REQUEST) { await waitWhile(ctrl, st); continue; }
        const off = (ctrl[1] >>> 0) + ctrl[2] * 2 ** 32, len = ctrl[3];
        try {
            slot.set(await store.read(off, len));
            Atomics.store(ctrl, 0, S.DONE);
        } catch (e) {
            const m = enc.encode(e?.message ?? String(e)).subarray(0, slot.length);
            slot.set(m);
            ctrl[3] = m.length;
            Atomics.store(ctrl, 0, S.FAILED);
        }
        Atomics.notify(ctrl, 0);
    }
    clearInterval(keepAlive);
    store.close();
});
