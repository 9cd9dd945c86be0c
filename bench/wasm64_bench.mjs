// wasm64_bench.mjs — the Memory64 cost end to end: wasm64 vs wasm32 (relaxed SIMD, as loadModel
// picks them in Chromium) on one model in one headless Chromium page, runs interleaved
// (32, 64, 32, 64, …) so that load from other processes hits both alike. Prints prefill and
// decode tok/s per run and the ratio of the best runs.
//
//   node bench/wasm64_bench.mjs MODEL.gguf [--threads 2] [--reps 3] [--prompt-tokens 64] [--decode 32]
//        [--js-flags '--flag ...'] (V8 flags for Chromium, e.g. to test a hypothesis about codegen)
//        [--bases DIR,DIR...] [--builds wasm32,wasm64]
// --bases: an A/B of module versions: each DIR (inside the repository) holds chord-wasm32-relaxed.wasm
// and chord-wasm64-relaxed.wasm (e.g. copies of an old and a new build); every rep runs each build
// of each DIR, in an order that alternates between reps, and the ratios are printed per DIR.
//   (MODEL inside the repository: it is served by tools/serve.mjs)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, startServer, repo } from '../tests/browser/chromium.mjs';

const args = process.argv.slice(2);
const opt = { threads: 2, reps: 3, promptTokens: 64, decode: 32, model: null, jsFlags: null, bases: null, builds: ['wasm32', 'wasm64'] };
for (let i = 0; i < args.length; i++) {
    const a = args[i], v = () => Number(args[++i]);
    if (a === '--threads') opt.threads = v();
    else if (a === '--reps') opt.reps = v();
    else if (a === '--prompt-tokens') opt.promptTokens = v();
    else if (a === '--decode') opt.decode = v();
    else if (a === '--js-flags') opt.jsFlags = args[++i];
    else if (a === '--bases') opt.bases = args[++i].split(',');
    else if (a === '--builds') opt.builds = args[++i].split(',');
    else opt.model = path.resolve(a);
}
const rel = path.relative(repo, opt.model);
const defaultBase = `/${process.env.BUILD ?? 'build'}/wasm/`;
const bases = opt.bases ? opt.bases.map((d) => `/${path.relative(repo, path.resolve(d))}/`) : [defaultBase];
const srv = await startServer();
const b = await launch({ extraArgs: opt.jsFlags ? [`--js-flags=${opt.jsFlags}`] : [] });
try {
    const page = await b.page();
    await page.goto(`${srv.url}web/`);
    await page.evaluate(async ({ url, o }) => {
        const { loadModel } = await import('/js/src/index.js');
        // the model as bytes in the page, not a Blob: twice here a run's Blob load stopped
        // delivering for good on the busy machine (the open stall of docs/MEMORY64.md)
        const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
        const prompt = 'Once upon a time, there was a little girl named Lily who loved to play in the park. '.repeat(8)
            .slice(0, Math.round(o.promptTokens * 4.3));
        let m = null;
        window.__bench = {
            load: async (wasmBase, build) => { m = await loadModel(bytes, { build, threads: o.threads, wasmBase, nCtx: 512 }); return m.info.wasmFile; },
            gen: async (n) => { for await (const _ of m.generate(prompt, { temperature: 0, maxTokens: n, ignoreEos: true })); return m.lastGeneration.stats; },
            dispose: async () => { await m.dispose(); m = null; },
        };
    }, { url: '/' + rel, o: opt });
    // CPU seconds of the browser's renderer (the page and its workers) from /proc: on a busy
    // machine wall-clock tok/s swings with the other processes, the CPU a fixed piece of work
    // takes much less (both builds do the same tokens)
    const cpu = () => {
        let t = 0;
        for (const pid of fs.readdirSync('/proc')) {
            if (!/^\d+$/.test(pid)) continue;
            try {
                const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
                if (!cmd.includes('--type=renderer') || !cmd.includes(b.profile)) continue;
                const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
                t += (Number(f[11]) + Number(f[12])) / 100;
            } catch { /* ended */ }
        }
        return t;
    };
    const rows = [];
    const runs = bases.flatMap((wasmBase) => opt.builds.map((build) => ({ wasmBase, build })));
    for (let r = 0; r < opt.reps; r++) {
        for (const { wasmBase, build } of (r % 2 ? [...runs].reverse() : runs)) {
            const file = await page.evaluate(([w, bd]) => window.__bench.load(w, bd), [wasmBase, build]);
            await page.evaluate(() => window.__bench.gen(2)); // warm-up (V8 tiers the hot functions up)
            const c0 = cpu();
            await page.evaluate(() => window.__bench.gen(2)); // the prompt + 2 tokens
            const c1 = cpu();
            const s = await page.evaluate((n) => window.__bench.gen(n), opt.decode);
            const c2 = cpu();
            await page.evaluate(() => window.__bench.dispose());
            // each generate runs the whole prompt, so the difference is (decode - 2) tokens
            const perTok = (c2 - c1 - (c1 - c0)) / (opt.decode - 2);
            rows.push({ build, base: wasmBase, file, prefill: s.prefill_tok_s, decode: s.decode_tok_s, cpuFirst: c1 - c0, cpuSecond: c2 - c1,
                cpuPrompt: c1 - c0 - 2 * perTok, cpuTok: perTok });
        }
    }
    const tag = (r) => (bases.length > 1 ? `${r.base} ` : '') + r.file;
    for (const r of rows) console.log(`${tag(r).padEnd(44)} prefill ${r.prefill.toFixed(2).padStart(8)} tok/s  decode ${r.decode.toFixed(2).padStart(7)} tok/s` +
        `  renderer CPU s: prompt+2 ${r.cpuFirst.toFixed(2)}, again+${opt.decode} ${r.cpuSecond.toFixed(2)} → prompt ${r.cpuPrompt.toFixed(2)}, per token ${(1e3 * r.cpuTok).toFixed(0)} ms`);
    const minCpu = (base, b, k) => Math.min(...rows.filter((r) => r.build === b && r.base === base).map((r) => r[k]));
    const best = (base, b, k) => Math.max(...rows.filter((r) => r.build === b && r.base === base).map((r) => r[k]));
    for (const base of bases) {
        const cols = opt.builds.map((b) => `${b} best prefill ${best(base, b, 'prefill').toFixed(2)} decode ${best(base, b, 'decode').toFixed(2)}` +
            ` (least CPU: prompt ${minCpu(base, b, 'cpuPrompt').toFixed(2)} s, per token ${(1e3 * minCpu(base, b, 'cpuTok')).toFixed(0)} ms)`).join('; ');
        const ratio = opt.builds.includes('wasm32') && opt.builds.includes('wasm64')
            ? `; wasm64/wasm32 prefill ×${(best(base, 'wasm64', 'prefill') / best(base, 'wasm32', 'prefill')).toFixed(3)}, ` +
              `decode ×${(best(base, 'wasm64', 'decode') / best(base, 'wasm32', 'decode')).toFixed(3)}` : '';
        console.log(`${bases.length > 1 ? base + ' ' : ''}${path.basename(opt.model)}, ${opt.threads} thread(s), best of ${opt.reps}: ${cols}${ratio}`);
    }
    console.log(`${opt.jsFlags ? `js-flags ${opt.jsFlags}; ` : ''}load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
    await b.close();
    await srv.close();
}
