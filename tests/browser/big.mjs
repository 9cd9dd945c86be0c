// big.mjs — one big-model run in headless Chromium (issue 11's opt-in proofs, tests/t_big.sh and
// bench/big_bench.mjs): loads a multi-GB GGUF through the public loadModel in a fresh browser,
// generates greedily from token ids and reports tokens, timings, wasm memory and the peak
// process memory, as one JSON line on stdout.
//
//   node tests/browser/big.mjs --model FILE --tokens "1 450 4996" -n 8 --case CASE [--threads 2]
//        [--n-ctx 512] [--cache-layers N] [--max-memory BYTES] [--mem-budget BYTES] [--store range|blob]
//        [--file] [--prompt TEXT] [--js-root DIR] [--load-only] [--load-chunk-bytes N]
//
// CASE:
//   resident64  build 'wasm64', residency 'resident', streamed from a URL (fetch body reader into
//               wasm memory, no whole-file ArrayBuffer); the weights end up past 4 GiB.
//   resident32  the same with build 'wasm32' (models below 4 GiB).
//   paged32     build 'wasm32', residency 'paged' with --cache-layers slots (0 = what the wasm
//               memory allows), read from the store: 'range' = the URL by HTTP Range requests,
//               'blob' = a File picked through an <input type=file> (disk-backed, FileReaderSync),
//               'opfs' = the URL downloaded once into the OPFS cache (a first load, not measured),
//               then read with a sync access handle (the measured, cached load).
//   paged64     the same with build 'wasm64' (--max-memory bounds its memory).
//   wllama64, wllama   the peers (bench/big_bench.mjs), given the File; --prompt TEXT.
// --file gives our engine the File too (resident64 then streams it by slices); --prompt TEXT
// generates from text instead of --tokens. --js-root DIR runs the package of another checkout
// (its js/src, with this build's .wasm files): bench/big_bench.mjs --base compares before/after.
// --load-only loads, reports (model.info.load: the load's phases) and disposes, no generation;
// --load-chunk-bytes sets loadChunkBytes (the staging buffers of a streamed load).
// The model directory is served at /big/ next to the repository; nothing else is fetched.
// Peak process memory = the peak of the summed RSS of every process of this browser, sampled
// every 250 ms, and the renderer's VmHWM (the page and its workers live in that process).
// idleProcessBytes = that sum with the page open and nothing loaded (Chromium itself), and
// idleRendererBytes the renderer's RSS then (an empty page): what every engine's peak includes.

import fs from 'node:fs';
import path from 'node:path';
import { launch, sampleMemory, browserRss } from './chromium.mjs';
import { serve } from '../../tools/serve.mjs';

const opt = { model: null, tokens: '1', n: 8, case: null, threads: 2, nCtx: 512, cacheLayers: 0, maxMemory: 0, memBudget: 0,
    store: 'range', file: false, prompt: null, buildDir: process.env.BUILD ?? 'build', jsRoot: null, loadOnly: false,
    loadChunkBytes: 0 };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
    const a = args[i], v = () => args[++i];
    if (a === '--model') opt.model = path.resolve(v());
    else if (a === '--tokens') opt.tokens = v();
    else if (a === '-n') opt.n = Number(v());
    else if (a === '--case') opt.case = v();
    else if (a === '--threads') opt.threads = Number(v());
    else if (a === '--n-ctx') opt.nCtx = Number(v());
    else if (a === '--cache-layers') opt.cacheLayers = Number(v());
    else if (a === '--max-memory') opt.maxMemory = Number(v());
    else if (a === '--mem-budget') opt.memBudget = Number(v());
    else if (a === '--store') opt.store = v();
    else if (a === '--file') opt.file = true;
    else if (a === '--prompt') opt.prompt = v();
    else if (a === '--js-root') opt.jsRoot = path.resolve(v());
    else if (a === '--load-only') opt.loadOnly = true;
    else if (a === '--load-chunk-bytes') opt.loadChunkBytes = Number(v());
    else { console.error(`big.mjs: unknown option ${a}`); process.exit(2); }
}
if (!opt.model || !fs.existsSync(opt.model) || !['resident64', 'resident32', 'paged32', 'paged64', 'wllama64', 'wllama'].includes(opt.case)) {
    console.error('usage: node tests/browser/big.mjs --model FILE --case resident64|resident32|paged32|paged64|wllama64|wllama [...]');
    process.exit(2);
}
const tokens = opt.tokens.trim().split(/\s+/).map(Number);

// The peers (from node_modules, never a CDN): wllama64 (the Memory64 fork) and upstream
// @wllama/wllama, given the same disk-backed File; greedy with end-of-generation ignored; their
// own llama.cpp timings. Upstream's loadModel() can resolve although llama.cpp failed to load
// (the next call then fails): such a run is reported as an error of the generation.
async function runPeer(o) {
    const base = o.case === 'wllama64' ? '/node_modules/wllama64/esm' : '/node_modules/@wllama/wllama/esm';
    const { Wllama } = await import(`${base}/index.js`);
    const version = (await (await fetch(`${base}/../package.json`)).json()).version;
    const quiet = { debug() {}, log() {}, warn() {}, error: (...a) => console.error(...a) };
    const w = new Wllama({ default: `${base}/wasm/wllama.wasm` }, { suppressNativeLog: true, logger: quiet });
    const file = document.getElementById('big-model-file').files[0];
    const t0 = performance.now();
    try {
        await w.loadModel([file], { n_threads: o.threads, n_ctx: o.nCtx, n_gpu_layers: 0, warmup: false });
    } catch (e) {
        return { engine: `${o.case} ${version}`, error: { code: 'load', message: String(e.message ?? e) } };
    }
    const loadMs = performance.now() - t0;
    if (o.loadOnly) {
        await w.exit();
        return { engine: `${o.case} ${version}`, loadMs, threads: o.threads, stats: {}, fileBytes: file.size, tokens: [] };
    }
    if (typeof o.prompt !== 'string') throw new Error('the peers take a text prompt (--prompt)');
    let r;
    try {
        r = await w.createCompletion({ prompt: o.prompt, max_tokens: o.n, temperature: 0, ignore_eos: true, cache_prompt: false });
    } catch (e) {
        return { engine: `${o.case} ${version}`, loadMs, error: { code: 'generate', message: `loadModel resolved, then: ${e.message ?? e}` } };
    }
    const t = r.timings ?? {};
    await w.exit();
    return { engine: `${o.case} ${version}`, loadMs, threads: o.threads, promptTokens: t.prompt_n, decoded: t.predicted_n,
        stats: { prefill_tok_s: t.prompt_per_second, decode_tok_s: t.predicted_per_second }, fileBytes: file.size, tokens: [] };
}

const srv = await serve({ port: 0, mounts: [['/big/', path.dirname(opt.model)], ...(opt.jsRoot ? [['/jsroot/', opt.jsRoot]] : [])] });
const browser = await launch();
let mem = sampleMemory(browser.profile);
let peak = null, warm = null, idle = null, idleRenderer = null;
let out;
try {
    const page = await browser.page();
    await browser.context.route(/^(?!http:\/\/127\.0\.0\.1)/, (r) => r.abort());
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') console.error(`  page: ${m.text()}`); });
    await page.goto(`${srv.url}web/`);
    if (!(await page.evaluate(() => self.crossOriginIsolated))) throw new Error('the page is not crossOriginIsolated');
    const modelUrl = `/big/${path.basename(opt.model)}`;
    const peer = opt.case.startsWith('wllama');
    const useFile = opt.file || peer || (!opt.case.startsWith('resident') && opt.store === 'blob');
    if (useFile) {
        // A disk-backed File, as a user picking the model would give it (Playwright hands Chromium
        // the path; nothing is copied).
        await page.evaluate(() => {
            const i = document.createElement('input');
            i.type = 'file';
            i.id = 'big-model-file';
            document.body.append(i);
        });
        await page.setInputFiles('#big-model-file', opt.model);
    }
    // Chromium itself with the page open: what every engine's peak includes
    await new Promise((r) => setTimeout(r, 1000));
    ({ sum: idle, rendererRss: idleRenderer } = browserRss(browser.profile));
    const args = { modelUrl, useFile, store: opt.store, case: opt.case, threads: opt.threads, nCtx: opt.nCtx, cacheLayers: opt.cacheLayers,
        maxMemory: opt.maxMemory, memBudget: opt.memBudget, prompt: opt.prompt ?? tokens, n: opt.n, wasmBase: `/${opt.buildDir}/wasm/`,
        loadOnly: opt.loadOnly, loadChunkBytes: opt.loadChunkBytes,
        jsIndex: opt.jsRoot ? '/jsroot/js/src/index.js' : '/js/src/index.js' };
    const ours = async (o) => {
        const { loadModel } = await import(o.jsIndex);
        const source = o.useFile ? document.getElementById('big-model-file').files[0] : o.modelUrl;
        const lo = { threads: o.threads, nCtx: o.nCtx, wasmBase: o.wasmBase };
        let progress = 0;
        lo.onProgress = () => { progress++; };
        if (o.case === 'resident64') Object.assign(lo, { build: 'wasm64', residency: 'resident' });
        else if (o.case === 'resident32') Object.assign(lo, { build: 'wasm32', residency: 'resident' });
        else Object.assign(lo, { build: o.case === 'paged64' ? 'wasm64' : 'wasm32', residency: 'paged',
            store: o.useFile ? 'blob' : o.store, cacheLayers: o.cacheLayers });
        if (o.maxMemory) lo.maxMemoryBytes = o.maxMemory;
        if (o.memBudget) lo.memoryBudget = o.memBudget;
        if (o.loadChunkBytes) lo.loadChunkBytes = o.loadChunkBytes;
        const t0 = performance.now();
        let model;
        try {
            model = await loadModel(source, lo);
        } catch (e) {
            return { error: { code: e.code ?? null, message: String(e.message ?? e) } };
        }
        const loadMs = performance.now() - t0;
        if (o.loadOnly) {
            const info = model.info;
            const cache = info.path.residency === 'paged' ? await model.cacheStats() : null;
            await model.dispose();
            return { tokens: [], stats: {}, cache, loadMs, progress, build: info.build, wasmFile: info.wasmFile, threads: info.threads,
                path: info.path, store: info.store, memoryBytes: info.sizes.memoryBytes, modelAddress: info.sizes.modelAddress,
                fileBytes: info.sizes.fileBytes, nLayer: info.sizes.nLayer, kvCacheBytes: info.sizes.kvCacheBytes, load: info.load ?? null };
        }
        if (o.warmOnly) {
            const store = model.info.store;
            await model.dispose();
            return { loadMs, store };
        }
        const run = async (prompt, n) => {
            const got = [];
            const t = performance.now();
            for await (const p of model.generate(prompt, { temperature: 0, maxTokens: n, ignoreEos: true }))
                if (p.token >= 0) got.push(p.token);
            return { tokens: got, ms: performance.now() - t, stats: model.lastGeneration.stats };
        };
        const r = await run(o.prompt, o.n);
        const cache = await model.cacheStats();
        const info = model.info;
        // the wasm memory once the session (KV cache, scratch) exists, against the C plan
        const memoryAfterBytes = model.liveStats?.memoryBytes ?? null;
        await model.dispose();
        return { tokens: r.tokens, genMs: r.ms, stats: r.stats, promptTokens: model.lastGeneration.promptTokens.length,
            cache, loadMs, progress,
            build: info.build, wasmFile: info.wasmFile, threads: info.threads, path: info.path,
            store: info.store, memoryBytes: info.sizes.memoryBytes, modelAddress: info.sizes.modelAddress,
            fileBytes: info.sizes.fileBytes, nLayer: info.sizes.nLayer, kvCacheBytes: info.sizes.kvCacheBytes, load: info.load ?? null,
            memoryAfterBytes, estimatedBytes: info.sizes.estimatedBytes };
    };
    if (opt.store === 'opfs' && !peer) {
        // First visit: the download into the OPFS cache; measured from the second (cached) one,
        // and the memory peaks from there on.
        const w = await page.evaluate(ours, { ...args, warmOnly: true });
        if (w.error) throw new Error(`OPFS download: ${w.error.message}`);
        mem.stop();
        mem = sampleMemory(browser.profile, 250, { resetPeaks: true });
        warm = { downloadMs: w.loadMs, store: w.store };
    }
    out = await page.evaluate(peer ? runPeer : ours, args);
    peak = mem.stop();
    if (warm) out.firstVisit = warm;
    out.pageErrors = errors;
} catch (e) {
    out = { error: { code: null, message: e.message } };
} finally {
    peak ??= mem.stop();
    await browser.close();
    await srv.close();
}
out.case = opt.case;
out.model = path.basename(opt.model);
out.peakProcessBytes = peak.peakSum;
out.peakRendererBytes = peak.peakRenderer;
out.idleProcessBytes = idle;
out.idleRendererBytes = idleRenderer;
console.log(JSON.stringify(out));
process.exit(out.error ? 1 : 0);
