// browser_bench.mjs — Chromium rows of `make bench`: our wasm32 and wasm64 builds (relaxed SIMD,
// as loadModel picks them in Chromium) vs wllama (@wllama/wllama from node_modules — llama.cpp on
// emscripten, no CDN; the version printed is the one loaded, read from its package.json) in the
// same headless Debian Chromium, on the TinyLlama-shaped Q4_K_M and Q8_0 models from make_model,
// with 1 and 2 threads; plus the Node rows: our wasm32 build in this Node as loadModel picks it
// (relaxed SIMD; under Node 20 behind a V8 flag the package turns on) and the plain-simd128 one
// (`node-simd128`: relaxed: false), each against Chromium's wasm32-relaxed. Every engine gets the same prompt and
// greedy decoding with end-of-generation ignored. Columns: load time (Blob → ready), prefill tok/s,
// decode tok/s (each engine's own timers: ours from chord_session_stats, wllama's llama.cpp
// timings), the ratios to the row's reference (wllama for Chromium rows, Chromium wasm32-relaxed
// for the Node row), the 1 → N threads speed-up, and peak RSS of the renderer process (one fresh
// browser per row, so the peaks do not mix). The header names the CPU and the load average.
//
//   node bench/browser_bench.mjs [--build-dir build] [--model PATH]... [--threads 1,2]
//        [--engines wasm32,wasm64,wllama,node,node-simd128] [--prompt-tokens 64] [--decode 64] [--reps 3]
//        [--json FILE] [--v8-prof DIR]
//
// --reps N: every engine loads the model once and then runs the prompt + decode N times (each a
// fresh prompt evaluation: our generate starts a new sequence, wllama runs with cache_prompt off);
// a row shows the best prefill and the best decode of the N, as the native rows (bench/run.sh) show
// the best of 3 runs. One run per row swung ±30% on the project's shared 2-core machines.
//
// --v8-prof DIR: Chromium runs with V8's sampling profiler (--js-flags=--prof); every isolate (the
// page and each Worker, so the engine's threads too) writes DIR/isolate-*-v8.log. Read the one
// with the most samples (`grep -c ^tick`) by `node --prof-process FILE`: wasm functions appear by
// name ("JS: *chord_dot_q4_K_simd128").
//
// Models default to $BUILD/models/tinyllama-{q4_k_m,q8_0}.gguf, made with $BUILD/make_model when
// missing. The page is served by tools/serve.mjs with COOP/COEP (threads need it).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { launch, startServer, rendererPeakRss, repo } from '../tests/browser/chromium.mjs';

const SHARED = process.env.CHORD_SHARED ? path.resolve(process.env.CHORD_SHARED) : path.resolve(repo);

const args = process.argv.slice(2);
const opt = { buildDir: process.env.BUILD ?? 'build', models: [], threads: [1, 2], engines: ['wasm32', 'wasm64', 'wllama', 'node', 'node-simd128'],
    promptTokens: 64, decode: 64, reps: 3, json: null, v8prof: null };
for (let i = 0; i < args.length; i++) {
    const a = args[i], v = () => args[++i];
    if (a === '--build-dir') opt.buildDir = v();
    else if (a === '--model') opt.models.push(path.resolve(v()));
    else if (a === '--threads') opt.threads = v().split(',').map(Number);
    else if (a === '--engines') opt.engines = v().split(',');
    else if (a === '--prompt-tokens') opt.promptTokens = Number(v());
    else if (a === '--decode') opt.decode = Number(v());
    else if (a === '--reps') opt.reps = Number(v());
    else if (a === '--json') opt.json = path.resolve(v());
    else if (a === '--v8-prof') opt.v8prof = path.resolve(v());
    else { console.error(`browser_bench: unknown option ${a}`); process.exit(2); }
}
if (!Number.isInteger(opt.reps) || opt.reps < 1) { console.error(`browser_bench: --reps must be a positive integer`); process.exit(2); }
const buildDir = path.resolve(repo, opt.buildDir);

// The wllama actually installed (the bench peer; scripts/setup.sh pins it in package.json).
const WLLAMA_DIR = path.join(repo, 'node_modules/@wllama/wllama');
const wllamaVersion = (() => {
    try { return JSON.parse(fs.readFileSync(path.join(WLLAMA_DIR, 'package.json'), 'utf8')).version; } catch { return null; }
})();
if (!wllamaVersion && opt.engines.includes('wllama')) {
    console.log(`SKIP wllama: ${WLLAMA_DIR} is not installed (make setup)`);
    opt.engines = opt.engines.filter((e) => e !== 'wllama');
}
const cpuModel = (() => {
    try { return /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model; } catch { return os.cpus()[0]?.model ?? '?'; }
})();
const loadAtStart = os.loadavg();

// TinyLlama 1.1B shape (22 layers, 2048 wide, 5632 ff, 32 heads, 4 KV heads, llama SPM vocab).
const TINYLLAMA = ['--layers', '22', '--embd', '2048', '--ff', '5632', '--heads', '32', '--kv-heads', '4', '--ctx', '2048'];
function ensureModels() {
    if (opt.models.length) return opt.models;
    const dir = path.join(buildDir, 'models');
    const vocab = path.join(SHARED, 'vocab/ggml-vocab-llama-spm.gguf');
    const out = [];
    for (const type of ['q4_k_m', 'q8_0']) {
        let f = path.join(dir, `tinyllama-${type}.gguf`);
        const lib = path.join(repo, 'tests/parity/lib.sh');
        if (fs.existsSync(lib) && fs.existsSync(path.join(buildDir, 'make_model'))) {
            // The parity suite's cache (same file, same arguments, remade when make_model changes).
            f = execFileSync('bash', ['-c', `. tests/parity/lib.sh && ensure_model tinyllama-${type}`],
                { cwd: repo, encoding: 'utf8', env: { ...process.env, BUILD: opt.buildDir }, stdio: ['ignore', 'pipe', 'inherit'] }).trim();
            f = path.resolve(repo, f);
        }
        if (!fs.existsSync(f)) {
            const mm = path.join(buildDir, 'make_model');
            if (!fs.existsSync(mm) || !fs.existsSync(vocab)) {
                console.log(`SKIP: ${f} missing and cannot be made (${mm}, ${vocab})`);
                continue;
            }
            fs.mkdirSync(dir, { recursive: true });
            console.error(`browser_bench: making ${f}`);
            execFileSync(mm, ['--vocab', vocab, ...TINYLLAMA, '--type', type, '--name', `tinyllama-shaped-${type}`, '-q', '-o', f], { stdio: 'inherit' });
        }
        out.push(f);
    }
    return out;
}

// ---- in-page runners (serialised into the page by page.evaluate) ------------------------------

// Engine keys: wasm32 / wasm64 pick their build as loadModel does (relaxed SIMD in Chromium);
// wasm32-simd128 / wasm64-simd128 force the plain simd128 build of that target.
async function runOurs({ modelUrl, build, threads, prompt, decode, wasmBase, reps }) {
    const relaxed = build.endsWith('-simd128') ? false : 'auto';
    build = build.replace(/-simd128$/, '');
    const { loadModel } = await import('/js/src/index.js');
    const { bestOfRuns } = await import('/bench/best_of.mjs');
    const res = await fetch(modelUrl);
    if (!res.ok) throw new Error(`${modelUrl}: HTTP ${res.status}`);
    const blob = await res.blob();
    const t0 = performance.now();
    const model = await loadModel(blob, { build, threads, wasmBase, nCtx: 512, relaxed });
    const loadMs = performance.now() - t0;
    // Warm-up: one short run so that both engines are measured hot.
    for await (const _ of model.generate(prompt, { temperature: 0, maxTokens: 2, ignoreEos: true }));
    const best = await bestOfRuns(model, prompt, decode, reps);
    const info = model.info;
    await model.dispose();
    return {
        engine: `wasm-chord ${info.build}${info.simd === 'relaxed' ? ' (relaxed)' : ''}`,
        threads: info.threads, loadMs, ...best, wasmMemory: info.sizes.memoryBytes,
    };
}

async function runWllama({ modelUrl, threads, prompt, decode, version, reps }) {
    const { Wllama } = await import('/node_modules/@wllama/wllama/esm/index.js');
    const quiet = { debug() {}, log() {}, warn() {}, error: (...a) => console.error(...a) };
    const w = new Wllama({ default: '/node_modules/@wllama/wllama/esm/wasm/wllama.wasm' }, { suppressNativeLog: true, logger: quiet });
    const res = await fetch(modelUrl);
    if (!res.ok) throw new Error(`${modelUrl}: HTTP ${res.status}`);
    const blob = await res.blob();
    const t0 = performance.now();
    await w.loadModel([blob], { n_threads: threads, n_ctx: 512, n_gpu_layers: 0, warmup: false });
    const loadMs = performance.now() - t0;
    await w.createCompletion({ prompt, max_tokens: 2, temperature: 0, ignore_eos: true });
    let t = {}, prefill = 0, decodeTps = 0;
    for (let i = 0; i < reps; i++) {
        const r = await w.createCompletion({ prompt, max_tokens: decode, temperature: 0, ignore_eos: true, cache_prompt: false });
        t = r.timings ?? {};
        prefill = Math.max(prefill, t.prompt_per_second ?? 0);
        decodeTps = Math.max(decodeTps, t.predicted_per_second ?? 0);
    }
    await w.exit();
    return {
        engine: `wllama ${version}`, threads, loadMs, promptTokens: t.prompt_n, decoded: t.predicted_n,
        prefill: prefill || null, decodeTps: decodeTps || null, wasmMemory: null,
    };
}

// Our wasm32 build in this Node process, with the same prompt and timers: the one loadModel picks
// (relaxed: 'auto') or, for node-simd128, the plain-simd128 one (relaxed: false).
async function runNode({ modelPath, threads, prompt, decode, reps, relaxed }) {
    const { loadModel } = await import(path.join(repo, 'js/src/index.js'));
    const { bestOfRuns } = await import('./best_of.mjs');
    const t0 = performance.now();
    const model = await loadModel(modelPath, { build: 'wasm32', threads, wasmBase: path.join(buildDir, 'wasm'), nCtx: 512, relaxed });
    const loadMs = performance.now() - t0;
    for await (const _ of model.generate(prompt, { temperature: 0, maxTokens: 2, ignoreEos: true }));
    const best = await bestOfRuns(model, prompt, decode, reps);
    const info = model.info;
    await model.dispose();
    return {
        engine: `wasm-chord ${info.build}${info.simd === 'relaxed' ? ' (relaxed)' : ' simd128'} in Node ${process.versions.node}`,
        threads: info.threads, loadMs, ...best, wasmMemory: info.sizes.memoryBytes,
    };
}

// ---- driver ---------------------------------------------------------------------------------

const models = ensureModels();
if (!models.length) process.exit(0);
const srv = await startServer();
const rows = [];
const prompt = 'Once upon a time, there was a little girl named Lily who loved to play in the park with her friends. '.repeat(8);
// The prompt: about promptTokens tokens of it (same text for every engine).
const promptText = prompt.slice(0, Math.round(opt.promptTokens * 4.3));
try {
    for (const modelPath of models) {
        const rel = path.relative(repo, modelPath);
        const relShared = path.relative(SHARED, modelPath);
        const modelUrl = !rel.startsWith('..') ? `/${rel}` : !relShared.startsWith('..') ? `/shared/${relShared}` : null;
        if (!modelUrl) { console.log(`SKIP: ${modelPath} is outside the served tree`); continue; }
        for (const threads of opt.threads) {
            for (const engine of opt.engines) {
                const row = { model: path.basename(modelPath), engineKey: engine, threads };
                if (engine === 'node' || engine === 'node-simd128') {
                    try {
                        Object.assign(row, await runNode({ modelPath, threads, prompt: promptText, decode: opt.decode, reps: opt.reps,
                                                           relaxed: engine === 'node' ? 'auto' : false }),
                            { peakRss: null });
                    } catch (e) {
                        row.error = e.message.split('\n')[0].slice(0, 160);
                    }
                    rows.push(row);
                    console.error(`browser_bench: ${row.model} ${engine} ${threads} thr: ${row.error ?? `${row.decodeTps?.toFixed(2)} tok/s decode`}`);
                    continue;
                }
                // V8 writes its logs into the browser's working directory (this process's)
                if (opt.v8prof) { fs.mkdirSync(opt.v8prof, { recursive: true }); process.chdir(opt.v8prof); }
                const b = await launch({ extraArgs: opt.v8prof ? ['--js-flags=--prof'] : [] });
                try {
                    const page = await b.page();
                    // Nothing may come from the network: only the local server.
                    await b.context.route(/^(?!http:\/\/127\.0\.0\.1)/, (r) => r.abort());
                    page.on('pageerror', (e) => console.error(`  page error: ${e.message}`));
                    await page.goto(`${srv.url}web/`);
                    const wasmBase = `/${path.relative(repo, path.join(buildDir, 'wasm'))}/`;
                    const r = engine === 'wllama'
                        ? await page.evaluate(runWllama, { modelUrl, threads, prompt: promptText, decode: opt.decode, version: wllamaVersion, reps: opt.reps })
                        : await page.evaluate(runOurs, { modelUrl, build: engine, threads, prompt: promptText, decode: opt.decode, wasmBase, reps: opt.reps });
                    Object.assign(row, r, { peakRss: rendererPeakRss(b.profile) });
                } catch (e) {
                    row.error = e.message.split('\n')[0].slice(0, 160);
                } finally {
                    await b.close();
                }
                rows.push(row);
                console.error(`browser_bench: ${row.model} ${engine} ${threads} thr: ${row.error ?? `${row.decodeTps?.toFixed(2)} tok/s decode`}`);
            }
        }
    }
} finally {
    await srv.close();
}

// ---- the table ------------------------------------------------------------------------------

const f = (x, d = 1) => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(d));
const mib = (x) => (x ? (x / 2 ** 20).toFixed(0) : '—');
const ratio = (a, b) => (a && b && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');
const find = (m, t, k) => rows.find((r) => r.model === m && r.threads === t && r.engineKey === k && !r.error);
// The reference of each row: wllama for our Chromium rows, Chromium wasm32 (relaxed) for Node.
const refKey = (k) => (k.startsWith('node') ? 'wasm32' : k === 'wllama' ? null : 'wllama');
const la = (v) => v.map((x) => x.toFixed(2)).join(' ');
const chromiumVersion = (() => { try { return execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return 'chromium'; } })();
console.log(`\n### Chromium (headless, ${chromiumVersion}) and Node ${process.versions.node}: wasm-chord vs wllama ${wllamaVersion ?? '(not installed)'}\n`);
console.log(`CPU: ${cpuModel}, ${os.cpus().length} logical CPUs; load average at start ${la(loadAtStart)}, at end ${la(os.loadavg())}. ` +
    `Each row: the best prefill and the best decode of ${opt.reps} run(s) after one load and a warm-up. ` +
    `Ratios: ours ÷ the "vs" engine at the same model and threads (wllama for Chromium rows; Chromium wasm32-relaxed for the Node row); ` +
    `"×1t" = this row ÷ the same engine at 1 thread.\n`);
console.log('| model | engine | threads | load ms | prompt tok | prefill tok/s | decode tok/s | vs | prefill ÷ vs | decode ÷ vs | prefill ×1t | decode ×1t | peak RSS MiB | wasm memory MiB |');
console.log('|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
    if (r.error) { console.log(`| ${r.model} | ${r.engineKey} | ${r.threads} | error: ${r.error} | | | | | | | | | | |`); continue; }
    const rk = refKey(r.engineKey), ref = rk ? find(r.model, r.threads, rk) : null;
    const one = r.threads !== 1 ? find(r.model, 1, r.engineKey) : null;
    const vs = !rk ? '' : rk === 'wllama' ? `wllama` : 'Chromium wasm32-relaxed';
    console.log(`| ${r.model} | ${r.engine} | ${r.threads} | ${f(r.loadMs, 0)} | ${r.promptTokens ?? '—'} | ${f(r.prefill)} | ${f(r.decodeTps, 2)} | ` +
        `${vs} | ${ref ? ratio(r.prefill, ref.prefill) : '—'} | ${ref ? ratio(r.decodeTps, ref.decodeTps) : '—'} | ` +
        `${one ? ratio(r.prefill, one.prefill) : '—'} | ${one ? ratio(r.decodeTps, one.decodeTps) : '—'} | ${mib(r.peakRss)} | ${mib(r.wasmMemory)} |`);
}
// The Memory64 cost: wasm64 vs wasm32 with the same SIMD flavour.
for (const m of new Set(rows.map((r) => r.model))) {
    for (const t of opt.threads) {
        for (const sfx of ['', '-simd128']) {
            const a = find(m, t, 'wasm32' + sfx), b = find(m, t, 'wasm64' + sfx);
            if (a && b) console.log(`${m} ${t} thr: ${b.engine} ÷ ${a.engine}: decode ${ratio(b.decodeTps, a.decodeTps)}, prefill ${ratio(b.prefill, a.prefill)}`);
        }
    }
}
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify({ cpu: cpuModel, load: [loadAtStart, os.loadavg()], wllama: wllamaVersion, rows }, null, 2));
