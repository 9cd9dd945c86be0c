// thread_worker.js — one engine thread (docs/WASM_ABI.md, "Threads"). Receives the compiled
// module and the shared memory, instantiates the module on that memory, gives this instance its
// own stack and TLS block (allocated by the engine thread), reports 'ready' and then runs
// chord_wasm_worker_main, which blocks in memory.atomic.wait32 between pool jobs and returns
// only when the engine calls chord_wasm_threads_stop().

let post, onFirst;
if (typeof process !== 'undefined' && process.versions?.node && typeof globalThis.WorkerGlobalScope === 'undefined') {
    const wt = await import('node:worker_threads');
    post = (m) => wt.parentPort.postMessage(m);
    onFirst = (fn) => wt.parentPort.once('message', fn);
} else {
    post = (m) => self.postMessage(m);
    onFirst = (fn) => self.addEventListener('message', (e) => fn(e.data), { once: true });
}

onFirst(async ({ module, memory, is64, stackTop, tls, ith }) => {
    const refuse = () => { throw new Error('host callbacks are not available on engine threads'); };
    const env = {
        memory,
        chord_host_now_ms: () => performance.now(),
        chord_host_read: refuse,
        chord_host_read_async: refuse,
        chord_host_drain: refuse,
        chord_host_token: refuse,
        chord_host_progress: refuse,
    };
    const instance = await WebAssembly.instantiate(module, { env });
    const x = instance.exports;
    x.__stack_pointer.value = is64 ? BigInt(stackTop) : stackTop;
    x.__wasm_init_tls(is64 ? BigInt(tls) : tls);
    post('ready');
    x.chord_wasm_worker_main(ith);
    post('exit');
});
