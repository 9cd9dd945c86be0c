#!/usr/bin/env node
// run_engine.mjs — greedy (or sampled) generation with one wasm build through js/src/core.js,
// printing one JSON line { build, threads, prompt_tokens, tokens, text, ms, heap }. Used by
// tests/t_wasm.sh to build the cross-target token table.
// usage: node [--experimental-wasm-memory64] run_engine.mjs BUILD.wasm MODEL.gguf THREADS N [PROMPT]
import fs from 'node:fs';
import { createEngine } from '../../js/src/core.js';

const [, , wasm, modelPath, threads = '1', n = '64', prompt = ''] = process.argv;
const engine = await createEngine({ wasm, threads: Number(threads) });
try {
    const bytes = fs.readFileSync(modelPath);
    const loader = engine.beginLoad(bytes.length);
    for (let o = 0; o < bytes.length; o += 1 << 22) loader.write(bytes.subarray(o, o + (1 << 22)));
    const model = loader.finishLoad();
    const session = model.newSession({ nCtx: 512, nThreads: Number(threads) });
    const ids = model.tokenize(prompt, { addSpecial: true });
    session.feed(ids);
    const sampler = engine.newSampler({ temperature: 0 });
    const tokens = [];
    let text = '';
    const t0 = performance.now();
    const r = session.generate(sampler, Number(n), (t, s) => { tokens.push(t); text += s; });
    const ms = performance.now() - t0;
    console.log(JSON.stringify({ build: engine.buildInfo, threads: engine.threads, status: r.status,
        prompt_tokens: Array.from(ids), tokens, text, ms, stats: session.stats(), heap: engine.heapStats() }));
    sampler.dispose(); session.dispose(); model.dispose();
} finally {
    engine.dispose();
}
