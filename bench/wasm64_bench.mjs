// wasm64_bench.mjs — the Memory64 cost end to end: wasm64 vs wasm32 (relaxed SIMD, as loadModel
// picks them in Chromium) on one model in one headless Chromium page, runs interleaved
// (32, 64, 32, 64, …) so that load from other processes hits both alike. Prints prefill and
// decode tok/s per run and the ratio of the best runs.
//
//   node bench/wasm64_bench.mjs MODEL.gguf [--threads 2] [--reps 3] [--prompt-tokens 64] [--decode 32]
//        [--js-flags '--flag ...'] (V8 flags for Chromium, e.g. to test a hypothesis about codegen)
//   (MODEL inside the repository: it is served by tools/serve.mjs)

import os from 'node:os';
import path from 'node:path';
import { launch, startServer, repo } from '../tests/browser/chromium.mjs';

const args = process.argv.slice(2);
const opt = { threads: 2, reps: 3, promptTokens: 64, decode: 32, model: null, jsFlags: null };
for (let i = 0; i < args.length; i++) {
    const a = args[i], v = () => Number(args[++i]);
    if (a === '--threads') opt.threads = v();
    else if (a === '--reps') opt.reps = v();
    else if (a === '--prompt-tokens') opt.promptTokens = v();
    else if (a === '--decode') opt.decode = v();
    else if (a === '--js-flags') opt.jsFlags = args[++i];
    else opt.model = path.resolve(a);
}
const rel = path.relative(repo, opt.model);
const srv = await startServer();
const b = await launch({ extraArgs: opt.jsFlags ? [`--js-flags=${opt.jsFlags}`] : [] });
try {
    const page = await b.page();
    await page.goto(`${srv.url}web/`);
    const rows = await page.evaluate(async ({ url, o, wasmBase }) => {
        const { loadModel } = await import('/js/src/index.js');
        const blob = await (await fetch(url)).blob();
        const prompt = 'Once upon a time, there was a little girl named Lily who loved to play in the park. '.repeat(8)
            .slice(0, Math.round(o.promptTokens * 4.3));
        const out = [];
        for (let r = 0; r < o.reps; r++) {
            for (const build of ['wasm32', 'wasm64']) {
                const m = await loadModel(blob, { build, threads: o.threads, wasmBase, nCtx: 512 });
                for await (const _ of m.generate(prompt, { temperature: 0, maxTokens: 2, ignoreEos: true }));
                for await (const _ of m.generate(prompt, { temperature: 0, maxTokens: o.decode, ignoreEos: true }));
                const s = m.lastGeneration.stats;
                out.push({ build, file: m.info.wasmFile, prefill: s.prefill_tok_s, decode: s.decode_tok_s });
                await m.dispose();
            }
        }
        return out;
    }, { url: '/' + rel, o: opt, wasmBase: `/${process.env.BUILD ?? 'build'}/wasm/` });
    for (const r of rows) console.log(`${r.file.padEnd(28)} prefill ${r.prefill.toFixed(2).padStart(8)} tok/s  decode ${r.decode.toFixed(2).padStart(7)} tok/s`);
    const best = (b, k) => Math.max(...rows.filter((r) => r.build === b).map((r) => r[k]));
    console.log(`${path.basename(opt.model)}, ${opt.threads} thread(s), best of ${opt.reps}: wasm64/wasm32 ` +
        `prefill ×${(best('wasm64', 'prefill') / best('wasm32', 'prefill')).toFixed(3)}, decode ×${(best('wasm64', 'decode') / best('wasm32', 'decode')).toFixed(3)}` +
        `${opt.jsFlags ? ` (js-flags ${opt.jsFlags})` : ''}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
    await b.close();
    await srv.close();
}
