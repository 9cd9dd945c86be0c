// big_bench.mjs — `make bench-big` (issue 11): the Llama-2-7B-shaped Q4_K_M (4.1 GB) and Q8_0
// (7.2 GB) in headless Chromium at 2 threads — ours wasm64-resident and wasm32-paged with half
// the layers in slots, against wllama64 (the Memory64 fork, npm) and upstream @wllama/wllama
// (4 GiB cap) — load time (File → ready), prefill and decode tok/s (each engine's own timers),
// peak process memory (the peak of the summed RSS of all the browser's processes), wasm memory,
// and whether the engine could load the model at all. Every engine gets the same disk-backed
// File and the same text prompt, greedy, end-of-generation ignored; one fresh browser per row,
// run one after another (tests/browser/big.mjs does each run). No warm-up run: a 7B load is
// the expensive part and every engine is measured the same way.
//
//   node bench/big_bench.mjs [--models llama7b-q4_k_m,llama7b-q8_0] [--engines ours64,ours32-paged,wllama64,wllama]
//        [--prompt-tokens 32] [--decode 16] [--json FILE] [--model-file FILE] [--base DIR]
//        [--load-only] [--load-chunk-bytes N] [--reps N]
//
// Models come from tests/lib/big_models.sh's cache ($CHORD_BIG_DIR, made once when missing);
// --model-file FILE benchmarks that file instead (e.g. a ~1.5 GiB model from build/make_model:
// a memory row in minutes). More engines for the memory rows: ours32 (wasm32 resident, streamed
// from the File), ours64-url / ours32-url (streamed from a URL), ours32-paged-range and
// ours32-paged-opfs (paged from HTTP Range / the OPFS cache). --base DIR runs every one of our
// rows a second time with DIR's js/src (another checkout, e.g. a `git worktree` of the old
// commit; same .wasm builds), so a row's before and after come from one run.
// --load-only: load, report and dispose (no generation); --load-chunk-bytes N: our streamed
// loads' staging buffer size (loadChunkBytes); --reps N: every row N times, interleaved (rep 1
// of every row, then rep 2…). Warm the file into the page cache first (cat FILE > /dev/null):
// a cold read of this machine's disk is ~30 MB/s and would be the whole load time.
// Columns: peak = summed RSS of all the browser's processes (what wllama64's published figures
// count); "÷ file" = peak / file size; "over idle" = peak − the idle browser with the page open
// (measured in the same run: Chromium's browser, GPU, network and storage processes plus the
// empty page's renderer), i.e. what the engine itself cost; renderer = the page's renderer
// process alone (VmHWM; the page and all its workers live in it); goal = (file + KV cache) × 1.1,
// the issue's target for the engine's own memory.
// A second table splits our streamed loads into phases (model.info.load.phases): header, engine
// start + memory plan, stream (the rest of the file into wasm memory; of it: waiting for reads,
// waiting for a staging buffer back, and the worker's copies, which overlap the reads), and the
// engine's parse/open (finish).

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = { models: ['llama7b-q4_k_m', 'llama7b-q8_0'], engines: ['ours64', 'ours32-paged', 'wllama64', 'wllama'],
    promptTokens: 32, decode: 16, json: null, threads: 2, modelFile: null, base: null, loadOnly: false, loadChunkBytes: 0, reps: 1 };
for (let i = 0; i < args.length; i++) {
    const a = args[i], v = () => args[++i];
    if (a === '--models') opt.models = v().split(',');
    else if (a === '--engines') opt.engines = v().split(',');
    else if (a === '--prompt-tokens') opt.promptTokens = Number(v());
    else if (a === '--decode') opt.decode = Number(v());
    else if (a === '--json') opt.json = v();
    else if (a === '--model-file') opt.modelFile = path.resolve(v());
    else if (a === '--base') opt.base = path.resolve(v());
    else if (a === '--load-only') opt.loadOnly = true;
    else if (a === '--load-chunk-bytes') opt.loadChunkBytes = Number(v());
    else if (a === '--reps') opt.reps = Number(v());
    else { console.error(`big_bench: unknown option ${a}`); process.exit(2); }
}

const bigModel = (name) => path.resolve(repo, execFileSync('bash', ['-c', `. tests/lib/big_models.sh && big_model ${name}`],
    { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim());
const nLayer = (file) => JSON.parse(execFileSync(path.join(repo, process.env.BUILD ?? 'build', 'wasm-chord'),
    ['inspect', '--plan', '-m', file, '--json'], { encoding: 'utf8' })).n_layer;
// About promptTokens tokens of plain English (≈ 4.3 characters a token with the llama SPM vocab).
const prompt = 'Once upon a time, there was a little girl named Lily who loved to play in the park with her friends. '
    .repeat(8).slice(0, Math.round(opt.promptTokens * 4.3));

const rows = [];
const models = opt.modelFile ? [path.basename(opt.modelFile, '.gguf')] : opt.models;
const files = Object.fromEntries(models.map((name) => [name, opt.modelFile ?? bigModel(name)]));
const loadavg = () => { try { return fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]; } catch { return '?'; } };
for (let rep = 1; rep <= opt.reps; rep++)
for (const name of models) {
    const file = files[name];
    const half = Math.ceil(nLayer(file) / 2);
    for (const engine of opt.engines) {
        const caseArgs = {
            ours64: ['--case', 'resident64', '--file'],
            ours32: ['--case', 'resident32', '--file'],
            'ours64-url': ['--case', 'resident64'],
            'ours32-url': ['--case', 'resident32'],
            'ours32-paged': ['--case', 'paged32', '--store', 'blob', '--cache-layers', String(half)],
            'ours32-paged-range': ['--case', 'paged32', '--store', 'range', '--cache-layers', String(half)],
            'ours32-paged-opfs': ['--case', 'paged32', '--store', 'opfs', '--cache-layers', String(half)],
            wllama64: ['--case', 'wllama64'],
            wllama: ['--case', 'wllama'],
        }[engine];
        if (!caseArgs) { console.error(`big_bench: unknown engine ${engine}`); process.exit(2); }
        const versions = engine.startsWith('ours') && opt.base ? [opt.base, null] : [null];
        for (const jsRoot of versions) {
            const loadBefore = loadavg();
            const r = spawnSync('node', [path.join(repo, 'tests/browser/big.mjs'), '--model', file, ...caseArgs,
                '--prompt', prompt, '-n', String(opt.decode), '--threads', String(opt.threads), '--n-ctx', '512',
                ...(jsRoot ? ['--js-root', jsRoot] : []), ...(opt.loadOnly ? ['--load-only'] : []),
                ...(opt.loadChunkBytes ? ['--load-chunk-bytes', String(opt.loadChunkBytes)] : [])],
            { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 3600e3, maxBuffer: 16 << 20 });
            let row;
            try { row = JSON.parse(r.stdout.trim().split('\n').pop()); } catch { row = { error: { message: `no result (exit ${r.status})` } }; }
            row.engineKey = engine;
            row.version = opt.base ? (jsRoot ? 'before' : 'after') : null;
            row.model = name;
            row.rep = rep;
            row.loadavg = `${loadBefore}–${loadavg()}`;
            row.fileBytes ??= fs.statSync(file).size;
            rows.push(row);
            console.error(`big_bench: ${name} ${engine}${row.version ? ` (${row.version})` : ''}: ${row.error ? `error: ${row.error.message.slice(0, 120)}` :
                `load ${(row.loadMs / 1000).toFixed(1)} s, prefill ${row.stats.prefill_tok_s?.toFixed(2)}, decode ${row.stats.decode_tok_s?.toFixed(2)} tok/s, ` +
                `peak ${(row.peakProcessBytes / 2 ** 30).toFixed(2)} GiB`}, load average ${row.loadavg}`);
        }
    }
}

const GiB = 2 ** 30;
const f = (x, d = 2) => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(d));
const label = (r) => ({ ours64: 'wasm-chord wasm64 resident (File)', ours32: 'wasm-chord wasm32 resident (File)',
    'ours64-url': 'wasm-chord wasm64 resident (URL)', 'ours32-url': 'wasm-chord wasm32 resident (URL)',
    'ours32-paged': 'wasm-chord wasm32 paged (File)', 'ours32-paged-range': 'wasm-chord wasm32 paged (Range)',
    'ours32-paged-opfs': 'wasm-chord wasm32 paged (OPFS)',
    wllama64: `wllama64 ${r.engine?.split(' ')[1] ?? ''}`, wllama: `@wllama/wllama ${r.engine?.split(' ')[1] ?? ''}` }[r.engineKey] +
    (r.version ? `, ${r.version}` : ''));
const load = (() => { try { return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '); } catch { return '?'; } })();
console.log(`\n### Chromium, ${opt.modelFile ? path.basename(opt.modelFile) : '7B-shaped models'}, ${opt.threads} threads (headless Debian chromium; ` +
    `${opt.decode} decoded tokens; load average at the end ${load})\n`);
console.log('| model | engine | loads? | load s | prompt tok | prefill tok/s | decode tok/s | peak process GiB | ÷ file | idle browser GiB | over idle GiB | over idle ÷ file | renderer GiB (empty page) | goal GiB | wasm memory GiB (after generating; plan) | slots | load avg |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
for (const r of rows) {
    const ok = !r.error;
    const c = r.cache;
    const slots = c && c.policy !== 'resident' ? `${c.slots} of ${r.nLayer} (${c.pinned} pinned)` +
        (c.async_read_ms > 0 ? `; store reads ${f(c.async_bytes / 1e6 / (c.async_read_ms / 1000), 0)} MB/s, ` +
            `${c.store_reads_in_flight_max ?? 1} at once, ${c.store_staging_buffers ?? '?'} staging buffers` : '') : '';
    const over = r.idleProcessBytes ? r.peakProcessBytes - r.idleProcessBytes : null;
    const goal = r.kvCacheBytes != null ? (r.fileBytes + r.kvCacheBytes) * 1.1 : null;
    console.log(`| ${r.model} (${f(r.fileBytes / GiB)} GiB) | ${label(r)} | ${ok ? 'yes' : `no: ${r.error.message.slice(0, 90).replace(/\|/g, '/')}`} | ` +
        `${ok ? f(r.loadMs / 1000, 1) : ''} | ${ok ? r.promptTokens ?? '' : ''} | ${ok ? f(r.stats.prefill_tok_s) : ''} | ${ok ? f(r.stats.decode_tok_s) : ''} | ` +
        `${f(r.peakProcessBytes / GiB)} | ${f(r.peakProcessBytes / r.fileBytes)} | ${r.idleProcessBytes ? f(r.idleProcessBytes / GiB) : '—'} | ` +
        `${over != null ? f(over / GiB) : '—'} | ${over != null ? f(over / r.fileBytes) : '—'} | ` +
        `${r.peakRendererBytes ? f(r.peakRendererBytes / GiB) : '—'}${r.idleRendererBytes ? ` (${f(r.idleRendererBytes / GiB)})` : ''} | ` +
        `${goal ? f(goal / GiB) : '—'} | ${r.memoryBytes ? f(r.memoryBytes / GiB) : '—'}` +
        `${r.memoryAfterBytes ? ` (${f(r.memoryAfterBytes / GiB)}; ${f(r.estimatedBytes / GiB)})` : ''} | ${slots} | ${r.loadavg} |`);
}
const phased = rows.filter((r) => r.load?.phases);
if (phased.length) {
    const s = (ms) => f(ms / 1000, 1);
    console.log(`\n#### Load phases of our streamed loads (seconds; model.info.load.phases)\n`);
    console.log('| model | engine | chunk MiB | reads in flight | total | header | engine start + plan | reserve | stream | of it: wait for reads | wait for a buffer | worker copy | finish (engine open) | MB/s (stream) | unpooled MiB | staging buffers | stalled reads retried | load avg |');
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const r of phased) {
        const p = r.load.phases;
        console.log(`| ${r.model} | ${label(r)} | ${f(r.load.chunkBytes / 2 ** 20, 0)} | ${r.load.readsInFlight ?? 1} | ${s(p.totalMs)} | ${s(p.headerMs)} | ` +
            `${s(p.engineMs)} | ${s(p.beginMs)} | ${s(p.streamMs)} | ${s(p.readMs)} | ${s(p.waitMs)} | ${s(p.copyMs)} | ${s(p.finishMs)} | ` +
            `${f(r.fileBytes / 1e6 / (p.streamMs / 1000), 0)} | ${f(r.load.unpooledBytes / 2 ** 20, 0)} | ${r.load.stagingBuffers} | ${r.load.stallRetries ?? '—'} | ${r.loadavg} |`);
    }
}
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(rows, null, 2));
