// big.mjs — one big-model run in headless Chromium (issue 11's opt-in proofs, tests/t_big.sh and
// bench/big_bench.mjs): loads a multi-GB GGUF through the public loadModel in a fresh browser,
// generates greedily from token ids and reports tokens, timings, wasm memory and the peak
// process memory, as one JSON line on stdout.
//
//   node tests/browser/big.mjs --model FILE --tokens "1 450 4996" -n 8 --case CASE [--threads 2]
//        [--n-ctx 512] [--cache-layers N] [--max-memory BYTES] [--mem-budget BYTES] [--store range|blob]
//        [--prefill N]
//
// CASE:
//   resident64  build 'wasm64', residency 'resident', streamed from a URL (fetch body reader into
//               wasm memory, no whole-file ArrayBuffer); the weights end up past 4 GiB.
//   paged32     build 'wasm32', residency 'paged' with --cache-layers slots (0 = what the wasm
//               memory allows), read from the store: 'range' = the URL by HTTP Range requests,
//               'blob' = a File picked through an <input type=file> (disk-backed, FileReaderSync).
//   paged64     the same with build 'wasm64' (--max-memory bounds its memory).
// The model directory is served at /big/ next to the repository; nothing else is fetched.
// Peak process memory = the peak of the summed RSS of every process of this browser, sampled
// every 250 ms, and the renderer's VmHWM (the page and its workers live in that process).

import fs from 'node:fs';
import path from 'node:path';
import { launch } from './chromium.mjs';
import { serve } from '../../tools/serve.mjs';

const opt = { model: null, tokens: '1', n: 8, case: null, threads: 2, nCtx: 512, cacheLayers: 0, maxMemory: 0, memBudget: 0,
    store: 'range', warm: 0, buildDir: process.env.BUILD ?? 'build', prefill: 0 };
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
    else if (a === '--prefill') opt.prefill = Number(v()); // bench: a second run with this many prompt tokens
    else { console.error(`big.mjs: unknown option ${a}`); process.exit(2); }
}
if (!opt.model || !fs.existsSync(opt.model) || !['resident64', 'paged32', 'paged64'].includes(opt.case)) {
    console.error('usage: node tests/browser/big.mjs --model FILE --case resident64|paged32|paged64 [...]');
    process.exit(2);
}
const tokens = opt.tokens.trim().split(/\s+/).map(Number);

// Summed RSS of this browser's processes (the profile directory is on each one's command line).
function browserRss(profile) {
    let sum = 0, renderer = 0;
    for (const pid of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
            if (!cmd.includes(profile)) continue;
            const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
            const rss = Number(/VmRSS:\s+(\d+) kB/.exec(st)?.[1] ?? 0) * 1024;
            sum += rss;
            if (cmd.includes('--type=renderer'))
                renderer = Math.max(renderer, Number(/VmHWM:\s+(\d+) kB/.exec(st)?.[1] ?? 0) * 1024);
        } catch { /* the process ended */ }
    }
    return { sum, renderer };
}

const srv = await serve({ port: 0, mounts: [['/big/', path.dirname(opt.model)]] });
const browser = await launch();
let peakSum = 0, peakRenderer = 0;
const sample = () => { const r = browserRss(browser.profile); peakSum = Math.max(peakSum, r.sum); peakRenderer = Math.max(peakRenderer, r.renderer); };
const timer = setInterval(sample, 250);
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
    const useFile = opt.case !== 'resident64' && opt.store === 'blob';
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
    out = await page.evaluate(async (o) => {
        const { loadModel } = await import('/js/src/index.js');
        const source = o.useFile ? document.getElementById('big-model-file').files[0] : o.modelUrl;
        const lo = { threads: o.threads, nCtx: o.nCtx, wasmBase: o.wasmBase };
        let progress = 0;
        lo.onProgress = () => { progress++; };
        if (o.case === 'resident64') Object.assign(lo, { build: 'wasm64', residency: 'resident' });
        else Object.assign(lo, { build: o.case === 'paged64' ? 'wasm64' : 'wasm32', residency: 'paged',
            store: o.useFile ? 'blob' : 'range', cacheLayers: o.cacheLayers });
        if (o.maxMemory) lo.maxMemoryBytes = o.maxMemory;
        if (o.memBudget) lo.memoryBudget = o.memBudget;
        const t0 = performance.now();
        let model;
        try {
            model = await loadModel(source, lo);
        } catch (e) {
            return { error: { code: e.code ?? null, message: String(e.message ?? e) } };
        }
        const loadMs = performance.now() - t0;
        const run = async (prompt, n) => {
            const got = [];
            const t = performance.now();
            for await (const p of model.generate(prompt, { temperature: 0, maxTokens: n, ignoreEos: true }))
                if (p.token >= 0) got.push(p.token);
            return { tokens: got, ms: performance.now() - t, stats: model.lastGeneration.stats };
        };
        const r = await run(o.tokens, o.n);
        const cache = await model.cacheStats();
        let pre = null;
        if (o.prefill) {
            // The bench's prefill row: a longer prompt (token ids cycled from the vocabulary's
            // ordinary range), one decoded token.
            const p = Array.from({ length: o.prefill }, (_, i) => 1000 + ((i * 7919) % 20000));
            pre = (await run([1, ...p], 1)).stats;
        }
        const info = model.info;
        await model.dispose();
        return { tokens: r.tokens, genMs: r.ms, stats: r.stats, prefillStats: pre, cache, loadMs, progress,
            build: info.build, wasmFile: info.wasmFile, threads: info.threads, path: info.path,
            store: info.store, memoryBytes: info.sizes.memoryBytes, modelAddress: info.sizes.modelAddress,
            fileBytes: info.sizes.fileBytes, nLayer: info.sizes.nLayer };
    }, { modelUrl, useFile, case: opt.case, threads: opt.threads, nCtx: opt.nCtx, cacheLayers: opt.cacheLayers,
        maxMemory: opt.maxMemory, memBudget: opt.memBudget, tokens, n: opt.n, prefill: opt.prefill, wasmBase: `/${opt.buildDir}/wasm/` });
    sample();
    out.pageErrors = errors;
} catch (e) {
    out = { error: { code: null, message: e.message } };
} finally {
    clearInterval(timer);
    await browser.close();
    await srv.close();
}
out.case = opt.case;
out.model = path.basename(opt.model);
out.peakProcessBytes = peakSum;
out.peakRendererBytes = peakRenderer;
console.log(JSON.stringify(out));
process.exit(out.error ? 1 : 0);
