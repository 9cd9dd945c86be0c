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
//
// Models come from tests/lib/big_models.sh's cache ($CHORD_BIG_DIR, made once when missing);
// --model-file FILE benchmarks that file instead (e.g. a ~1.5 GiB model from build/make_model:
// a memory row in minutes). More engines for the memory rows: ours32 (wasm32 resident, streamed
// from the File), ours64-url / ours32-url (streamed from a URL), ours32-paged-range and
// ours32-paged-opfs (paged from HTTP Range / the OPFS cache). --base DIR runs every one of our
// rows a second time with DIR's js/src (another checkout, e.g. a `git worktree` of the old
// commit; same .wasm builds), so a row's before and after come from one run.
// Columns: peak = summed RSS of all the browser's processes; "÷ file" = peak / file size;
// "over idle ÷ file" = (peak − the idle browser with the page open) / file size, i.e. what the
// engine itself cost per byte of model (the issue's goal: ≤ (model + KV) × 1.1).

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = { models: ['llama7b-q4_k_m', 'llama7b-q8_0'], engines: ['ours64', 'ours32-paged', 'wllama64', 'wllama'],
    promptTokens: 32, decode: 16, json: null, threads: 2, modelFile: null, base: null };
for (let i = 0; i < args.length; i++) {
    const a = args[i], v = () => args[++i];
    if (a === '--models') opt.models = v().split(',');
    else if (a === '--engines') opt.engines = v().split(',');
    else if (a === '--prompt-tokens') opt.promptTokens = Number(v());
    else if (a === '--decode') opt.decode = Number(v());
    else if (a === '--json') opt.json = v();
    else if (a === '--model-file') opt.modelFile = path.resolve(v());
    else if (a === '--base') opt.base = path.resolve(v());
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
for (const name of models) {
    const file = opt.modelFile ?? bigModel(name);
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
            const r = spawnSync('node', [path.join(repo, 'tests/browser/big.mjs'), '--model', file, ...caseArgs,
                '--prompt', prompt, '-n', String(opt.decode), '--threads', String(opt.threads), '--n-ctx', '512',
                ...(jsRoot ? ['--js-root', jsRoot] : [])],
            { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 3600e3, maxBuffer: 16 << 20 });
            let row;
            try { row = JSON.parse(r.stdout.trim().split('\n').pop()); } catch { row = { error: { message: `no result (exit ${r.status})` } }; }
            row.engineKey = engine;
            row.version = opt.base ? (jsRoot ? 'before' : 'after') : null;
            row.model = name;
            row.fileBytes ??= fs.statSync(file).size;
            rows.push(row);
            console.error(`big_bench: ${name} ${engine}${row.version ? ` (${row.version})` : ''}: ${row.error ? `error: ${row.error.message.slice(0, 120)}` :
                `load ${(row.loadMs / 1000).toFixed(1)} s, prefill ${row.stats.prefill_tok_s?.toFixed(2)}, decode ${row.stats.decode_tok_s?.toFixed(2)} tok/s, ` +
                `peak ${(row.peakProcessBytes / 2 ** 30).toFixed(2)} GiB`}`);
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
console.log('| model | engine | loads? | load s | prompt tok | prefill tok/s | decode tok/s | peak process GiB | ÷ file | idle browser GiB | over idle ÷ file | wasm memory GiB | slots |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
    const ok = !r.error;
    const slots = r.cache && r.cache.policy !== 'resident' ? `${r.cache.slots} of ${r.nLayer} (${r.cache.pinned} pinned)` : '';
    console.log(`| ${r.model} (${f(r.fileBytes / GiB)} GiB) | ${label(r)} | ${ok ? 'yes' : `no: ${r.error.message.slice(0, 90).replace(/\|/g, '/')}`} | ` +
        `${ok ? f(r.loadMs / 1000, 1) : ''} | ${ok ? r.promptTokens ?? '' : ''} | ${ok ? f(r.stats.prefill_tok_s) : ''} | ${ok ? f(r.stats.decode_tok_s) : ''} | ` +
        `${f(r.peakProcessBytes / GiB)} | ${f(r.peakProcessBytes / r.fileBytes)} | ${r.idleProcessBytes ? f(r.idleProcessBytes / GiB) : '—'} | ` +
        `${r.idleProcessBytes ? f((r.peakProcessBytes - r.idleProcessBytes) / r.fileBytes) : '—'} | ${r.memoryBytes ? f(r.memoryBytes / GiB) : '—'} | ${slots} |`);
}
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(rows, null, 2));
