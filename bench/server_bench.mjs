// server_bench.mjs — `make bench` rows for `wasm-chord serve`: requests/s and generated tokens/s
// at --parallel 1 and 2, beside `wasm-chord run` on the same prompts, and the server's overhead
// per token in % (HTTP, JSON, queueing, streaming; the engine is the same).
//
//   node bench/server_bench.mjs [--build-dir build] [--model FILE ...] [--tokens 64] [--requests 16]
//                               [--threads 2] [--reps 2]
//
// Each request is a greedy /v1/completions of exactly --tokens tokens (ignore_eos) on one of four
// prompts; `run` gets the same prompts as -p with -n --tokens --ignore-eos. Times:
//  - run: the engine's time (prefill + decode, from run --json), no process start or loading;
//  - serve: the client's wall time per request (sequential at --parallel 1; two clients at once at
//    --parallel 2, where the rates add up). Threads: --parallel 1 gets --threads, --parallel 2
//    --threads / 2 per slot (the same cores in all); each is compared with run at the same
//    threads per request: overhead = (ms per token of one request stream) / run's - 1.
// Best of --reps for every row. Numbers from a shared machine (others compiling) are noisy;
// compare rows of one run.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const BUILD = path.resolve(repo, opt('--build-dir', process.env.BUILD ?? 'build'));
const CLI = path.join(BUILD, 'wasm-chord');
const N = Number(opt('--tokens', 64));
const REQUESTS_ARG = Number(opt('--requests', 16));
const THREADS = Number(opt('--threads', 2));
const REPS = Number(opt('--reps', 2));
const shared = process.env.CHORD_SHARED ?? path.join(repo, '..', 'shared');
const models = [];
for (let i = 0; i < args.length; i++) if (args[i] === '--model') models.push(args[i + 1]);
if (!models.length) {
    for (const m of [path.join(shared, 'models/stories260K.gguf'), path.join(repo, 'models/stories260K.gguf'),
                     path.join(BUILD, 'models/tinyllama-q4_k_m.gguf')])
        if (fs.existsSync(m) && !models.some((x) => path.basename(x) === path.basename(m))) models.push(m);
}
const PROMPTS = ['Once upon a time', 'The little dog ran to the park and', 'Tom and Sue went to the shop to buy',
                 'In the morning the sun was warm and the birds'];

// The engine's own time for the request (prefill + decode from run --json): what a request costs
// without any server, so the difference to the server's wall time is the server's overhead.
function runOnce(model, prompt, threads) {
    const out = execFileSync(CLI, ['run', '-m', model, '-p', prompt, '-n', String(N), '--temp', '0', '--ignore-eos',
                                   '-t', String(threads), '--json'], { encoding: 'utf8' });
    const o = JSON.parse(out);
    const ms = 1000 * (o.prompt_tokens.length / o.timings.prefill_tok_s + o.tokens.length / o.timings.decode_tok_s);
    return { ms, tokens: o.tokens.length };
}

async function startServer(model, parallel, threads) {
    const p = spawn(CLI, ['serve', '-m', model, '--port', '0', '--parallel', String(parallel), '-t', String(threads)],
                    { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const port = await new Promise((resolve, reject) => {
        p.stderr.on('data', (d) => {
            log += d;
            const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
            if (m) resolve(Number(m[1]));
        });
        p.on('exit', (c) => reject(new Error(`serve exited ${c}: ${log}`)));
    });
    return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => { p.on('exit', r); p.kill('SIGTERM'); }) };
}

async function request(url, prompt) {
    const r = await fetch(`${url}/v1/completions`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ prompt, max_tokens: N, temperature: 0, ignore_eos: true }),
    });
    const o = await r.json();
    if (!r.ok) throw new Error(`HTTP ${r.status}: ${JSON.stringify(o)}`);
    return o.usage.completion_tokens;
}

// n requests spread over `clients` concurrent loops; → { ms, requests, tokens }
async function load(url, clients, n) {
    let next = 0, tokens = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: clients }, async () => {
        while (next < n) { const i = next++; const t = await request(url, PROMPTS[i % PROMPTS.length]); tokens += t; }
    }));
    return { ms: performance.now() - t0, requests: n, tokens };
}

const best = (rows) => rows.reduce((a, b) => (b.tokens / b.ms > a.tokens / a.ms ? b : a));
const fmt = (x, d = 1) => x.toFixed(d).padStart(8);

if (!fs.existsSync(CLI)) { console.log(`server bench: ${CLI} not built`); process.exit(1); }
if (!models.length) { console.log('server bench: no model found (stories260K in $CHORD_SHARED/models)'); process.exit(0); }
console.log(`== wasm-chord serve vs run: ${REQUESTS_ARG} greedy requests (4 on models over 100 MB) of ${N} tokens, ${THREADS} threads in all, best of ${REPS}` +
            ' (noisy while others compile)');
console.log('| model | mode | req/s | gen tok/s | ms/token | overhead/token vs run |');
console.log('|---|---|---:|---:|---:|---:|');
for (const model of models) {
    const name = path.basename(model, '.gguf');
    const REQUESTS = fs.statSync(model).size > 100e6 ? Math.min(4, REQUESTS_ARG) : REQUESTS_ARG;   // big models: fewer
    const baseline = {};
    runOnce(model, PROMPTS[0], THREADS);   // untimed: the file into the page cache (mmap faults count as engine time)
    const row = (mode, b, overhead) => console.log(`| ${name} | ${mode} | ${fmt(b.requests / (b.ms / 1000), 2)} | ${fmt(b.tokens / (b.ms / 1000))} | ` +
                                                   `${fmt(b.ms / b.tokens, 3)} | ${overhead} |`);
    for (const threads of [...new Set([THREADS, Math.max(1, Math.floor(THREADS / 2))])]) {
        const rows = [];
        for (let r = 0; r < REPS; r++) {
            let ms = 0, tokens = 0;
            for (let i = 0; i < REQUESTS; i++) { const x = runOnce(model, PROMPTS[i % PROMPTS.length], threads); ms += x.ms; tokens += x.tokens; }
            rows.push({ ms, tokens, requests: REQUESTS });
        }
        baseline[threads] = best(rows);
        row(`run -t ${threads} (engine time)`, baseline[threads], '—');
    }
    for (const parallel of [1, 2]) {
        const threads = Math.max(1, Math.floor(THREADS / parallel));
        const srv = await startServer(model, parallel, threads);
        try {
            await load(srv.url, parallel, parallel);   // warm-up
            const rows = [];
            for (let r = 0; r < REPS; r++) rows.push(await load(srv.url, parallel, REQUESTS));
            const b = best(rows);
            const perStream = (b.ms * parallel) / b.tokens;   // ms per token of one request stream
            const base = baseline[threads].ms / baseline[threads].tokens;
            row(`serve --parallel ${parallel} -t ${threads}`, b, `${((perStream / base - 1) * 100).toFixed(1)} % (vs run -t ${threads})`);
        } finally {
            await srv.stop();
        }
    }
}
