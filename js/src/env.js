// env.js — what the host is (browser or Node) and the few host services the package needs:
// a dedicated worker with one message interface on both hosts, the number of threads to use,
// and where the .wasm builds live. Kept apart so index.js and worker.js read the same facts.

export const isNode = typeof process !== 'undefined' && !!process.versions?.node &&
    typeof globalThis.window === 'undefined' && typeof globalThis.WorkerGlobalScope === 'undefined';

export const nodeMajor = isNode ? Number(process.versions.node.split('.')[0]) : 0;

/** Threads on one shared memory: always in Node, only when crossOriginIsolated in browsers. */
export function sharedMemoryAvailable() {
    if (isNode) return true;
    return !!globalThis.crossOriginIsolated && typeof SharedArrayBuffer !== 'undefined';
}

export async function defaultThreads() {
    if (!sharedMemoryAvailable()) return 1;
    let n = 1;
    if (isNode) {
        const os = await import('node:os');
        n = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
    } else {
        n = globalThis.navigator?.hardwareConcurrency || 1;
    }
    // Past 8 threads the fork-join barrier and memory bandwidth eat the gain on these kernels.
    return Math.max(1, Math.min(8, n));
}

/**
 * A worker running `url` (an ES module) with a uniform interface:
 * { post(msg, transfer), onMessage(fn), onError(fn), terminate() }.
 */
export async function spawnWorker(url) {
    if (isNode) {
        const { Worker } = await import('node:worker_threads');
        const w = new Worker(url);
        // A model worker must not keep the process alive on its own; index.js refs it while busy.
        return {
            post: (m, t) => w.postMessage(m, t),
            onMessage: (fn) => w.on('message', fn),
            onError: (fn) => {
                w.on('error', fn);
                w.on('exit', (code) => fn(new Error(`worker exited with code ${code}`)));
            },
            terminate: () => w.terminate(),
            ref: () => w.ref(),
            unref: () => w.unref(),
        };
    }
    const w = new Worker(url, { type: 'module', name: 'wasm-chord' });
    return {
        post: (m, t) => w.postMessage(m, t),
        onMessage: (fn) => w.addEventListener('message', (e) => fn(e.data)),
        onError: (fn) => {
            w.addEventListener('error', (e) => fn(new Error(e.message || 'worker failed to start')));
            w.addEventListener('messageerror', () => fn(new Error('worker message could not be decoded')));
        },
        terminate: () => w.terminate(),
        ref: () => {},
        unref: () => {},
    };
}

const WASM_FILE = 'chord-wasm32.wasm';

/**
 * The directory (URL ending in '/') holding the .wasm builds: `wasmBase` when given, else the
 * package's own wasm/ (published layout: `npm pack` copies the builds there), else the
 * repository's build/wasm/ (development layout). Node checks the disk; browsers decide by the
 * module's URL (installed packages live under node_modules/), so no request can fail noisily.
 */
export async function resolveWasmBase(wasmBase) {
    if (wasmBase) {
        const s = String(wasmBase instanceof URL ? wasmBase.href : wasmBase);
        if (isNode && !/^[a-z]+:/i.test(s)) {
            const { pathToFileURL } = await import('node:url');
            return pathToFileURL(s.endsWith('/') ? s : s + '/').href;
        }
        return new URL(s.endsWith('/') ? s : s + '/', globalThis.location?.href).href;
    }
    const packaged = new URL('../wasm/', import.meta.url);
    const repo = new URL('../../build/wasm/', import.meta.url);
    if (isNode) {
        const fs = await import('node:fs');
        return fs.existsSync(new URL(WASM_FILE, packaged)) ? packaged.href : repo.href;
    }
    return import.meta.url.includes('/node_modules/') ? packaged.href : repo.href;
}
