// wasm_profile.mjs — where a build's time goes in headless Chromium, by function: loads MODEL with
// loadModel({ build }), warms up, then samples the renderer with `perf record -e cpu-clock`
// (CPU time, so a busy machine skews it less than tok/s) while it generates, and prints the top
// wasm functions with their sample counts. V8 names them (--perf-basic-prof writes
// /tmp/perf-PID.map, removed at the end). With --jit, V8 also writes jitdump files and the
// recording is injected (perf inject --jit), so that `perf annotate -i OUT.jit.data --stdio -s SYMBOL`
// shows the x86 code of a function (e.g. Memory64's bounds checks: docs/MEMORY64.md).
//
//   node bench/wasm_profile.mjs MODEL.gguf [--build wasm32|wasm64] [--threads 1] [--reps 2]
//        [--prompt-tokens 64] [--decode 32] [--out DIR] [--jit] [--js-flags '...'] [--top 12]
//   (MODEL inside the repository: it is served by tools/serve.mjs; needs perf)
// PERF_EXTRA='--user-regs=bp,r13' (environment): more `perf record` arguments, space-separated,
// e.g. to read registers per sample with `perf script -F ip,sym,uregs`.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { launch, startServer, repo } from '../tests/browser/chromium.mjs';

const args = process.argv.slice(2);
const opt = { build: 'wasm64', threads: 1, reps: 2, promptTokens: 64, decode: 32, out: null, jit: false, jsFlags: '', top: 12, model: null };
for (let i = 0; i < args.length; i++) {
    const a = args[i], v = () => args[++i];
    if (a === '--build') opt.build = v();
    else if (a === '--threads') opt.threads = Number(v());
    else if (a === '--reps') opt.reps = Number(v());
    else if (a === '--prompt-tokens') opt.promptTokens = Number(v());
    else if (a === '--decode') opt.decode = Number(v());
    else if (a === '--out') opt.out = path.resolve(v());
    else if (a === '--jit') opt.jit = true;
    else if (a === '--js-flags') opt.jsFlags = v();
    else if (a === '--top') opt.top = Number(v());
    else opt.model = path.resolve(a);
}
if (!opt.model) { console.error('usage: node bench/wasm_profile.mjs MODEL.gguf [--build wasm64] ...'); process.exit(2); }
const out = opt.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'chord-prof-'));
fs.mkdirSync(out, { recursive: true });
const data = path.join(out, `${opt.build}-${opt.threads}t.data`);
// V8's per-isolate log files (written with --perf-prof) land in the working directory
process.chdir(out);
const flags = `${opt.jit ? `--perf-prof --perf-prof-path=${out}` : '--perf-basic-prof'} ${opt.jsFlags}`.trim();
const rel = path.relative(repo, opt.model);
const srv = await startServer();
const b = await launch({ extraArgs: [`--js-flags=${flags}`] });
const renderers = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { const c = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'); return c.includes('--type=renderer') && c.includes(b.profile); } catch { return false; }
});
let pids = [];
try {
    const page = await b.page();
    await page.goto(`${srv.url}web/`);
    await page.evaluate(async ({ url, o, wasmBase }) => {
        const { loadModel } = await import('/js/src/index.js');
        const blob = await (await fetch(url)).blob();
        window.chordProfPrompt = 'Once upon a time, there was a little girl named Lily who loved to play in the park. '.repeat(8)
            .slice(0, Math.round(o.promptTokens * 4.3));
        window.chordProfModel = await loadModel(blob, { build: o.build, threads: o.threads, wasmBase, nCtx: 512 });
        // warm-up: V8 tiers the hot functions up before the recording starts
        for await (const _ of window.chordProfModel.generate(window.chordProfPrompt, { temperature: 0, maxTokens: 8, ignoreEos: true }));
    }, { url: '/' + rel, o: opt, wasmBase: `/${process.env.BUILD ?? 'build'}/wasm/` });
    pids = renderers();
    const perf = spawn('perf', ['record', ...(opt.jit ? ['-k', 'mono'] : []), ...(process.env.PERF_EXTRA ?? '').split(/\s+/).filter(Boolean), '-e', 'cpu-clock', '-F', '2000', '-o', data, '-p', pids.join(',')],
        { stdio: ['ignore', 'ignore', 'inherit'] });
    await new Promise((r) => setTimeout(r, 1000));
    const stats = await page.evaluate(async (o) => {
        const res = [];
        for (let i = 0; i < o.reps; i++) {
            for await (const _ of window.chordProfModel.generate(window.chordProfPrompt, { temperature: 0, maxTokens: o.decode, ignoreEos: true }));
            res.push(window.chordProfModel.lastGeneration.stats);
        }
        await window.chordProfModel.dispose();
        return res;
    }, opt);
    perf.kill('SIGINT');
    await new Promise((r) => perf.on('exit', r));
    console.log(`${path.basename(opt.model)} ${opt.build} ${opt.threads} thread(s): ` +
        stats.map((s) => `prefill ${s.prefill_tok_s.toFixed(2)} decode ${s.decode_tok_s.toFixed(2)} tok/s`).join('; ') +
        `; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
    await b.close();
    await srv.close();
}
// perf report resolves the wasm functions through V8's /tmp/perf-PID.map: report, then remove them
try {
    let report = data;
    if (opt.jit) {
        report = data.replace(/\.data$/, '.jit.data');
        execFileSync('perf', ['inject', '--jit', '-i', data, '-o', report], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    const rows = execFileSync('perf', ['report', '-i', report, '--sort', 'sym', '--stdio', '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 })
        .split('\n').filter((l) => l.trim() && !l.startsWith('#')).slice(0, opt.top);
    console.log(rows.join('\n'));
    console.log(`recording: ${report}${opt.jit ? ` (perf annotate -i ${report} --stdio -s SYMBOL)` : ''}`);
} finally {
    for (const p of pids) fs.rmSync(`/tmp/perf-${p}.map`, { force: true });
}
