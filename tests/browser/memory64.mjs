// memory64.mjs — Memory64-resident above the 4 GiB mark in headless Chromium: loadModel streams
// each model from a URL (fetch body reader, no whole-file ArrayBuffer) into a wasm64 memory with
// the weightsAbove test hook set past 4 GiB, so every weight lives above the mark even for a
// tiny model; checks progress was reported, the buffer's address, the relaxed wasm64 build, and
// that the greedy token ids equal the native CLI's, with 1 and 2 threads.
//
//   node tests/browser/memory64.mjs REF.json MODEL.gguf [REF.json MODEL.gguf ...]
//   (REF.json: `wasm-chord run --json` output of the same model, prompt and -n; its "prompt"
//   field is not used: the prompt comes from CHORD_PROMPT_<i> or "")

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, startServer, repo } from './chromium.mjs';

const GiB = 2 ** 30;
const ABOVE = 4 * GiB + 256 * 2 ** 20; // 4.25 GiB: past the mark with room for the heap below
const args = process.argv.slice(2);
const cases = [];
for (let i = 0; i + 1 < args.length; i += 2)
    cases.push({ ref: JSON.parse(fs.readFileSync(args[i], 'utf8').trim().split('\n').pop()), model: path.resolve(args[i + 1]),
        prompt: process.env[`CHORD_PROMPT_${i / 2}`] ?? '' });
const buildDir = process.env.BUILD ?? 'build';

const srv = await startServer();
const browser = await launch();
let failed = false;
try {
    const page = await browser.page();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${srv.url}web/`);
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
    for (const c of cases) {
        const rel = path.relative(repo, c.model);
        assert.ok(!rel.startsWith('..'), `${c.model} must be inside the repository to be served`);
        for (const threads of [1, 2]) {
            const r = await page.evaluate(async ({ url, threads, above, n, prompt, wasmBase }) => {
                const { loadModel } = await import('/js/src/index.js');
                let progress = 0, last = null;
                const model = await loadModel(url, { build: 'wasm64', threads, weightsAbove: above, wasmBase, nCtx: 256,
                    onProgress: (p) => { progress++; last = p; } });
                const tokens = [];
                for await (const { token } of model.generate(prompt, { temperature: 0, maxTokens: n }))
                    if (token >= 0) tokens.push(token);
                const info = model.info;
                await model.dispose();
                return { tokens, progress, last, build: info.build, wasmFile: info.wasmFile, threads: info.threads,
                    address: info.sizes.modelAddress, memoryBytes: info.sizes.memoryBytes, fileBytes: info.sizes.fileBytes };
            }, { url: '/' + rel, threads, above: ABOVE, n: c.ref.tokens.length, prompt: c.prompt, wasmBase: `/${buildDir}/wasm/` });
            const name = `${path.basename(c.model)} ${threads} thread(s)`;
            assert.equal(r.build, 'wasm64', name);
            assert.equal(r.wasmFile, 'chord-wasm64-relaxed.wasm', name);
            assert.equal(r.threads, threads, name);
            assert.ok(r.address >= ABOVE, `${name}: weights at ${r.address}, below ${ABOVE}`);
            assert.ok(r.memoryBytes > 4 * GiB + r.fileBytes, `${name}: wasm memory ${r.memoryBytes}`);
            assert.ok(r.progress >= 2 && r.last.loaded === r.fileBytes && r.last.total === r.fileBytes, `${name}: progress ${JSON.stringify(r)}`);
            assert.deepEqual(r.tokens, c.ref.tokens, `${name}: token ids differ from native`);
            console.log(`  ${name}: weights at ${(r.address / GiB).toFixed(3)} GiB, wasm memory ${(r.memoryBytes / GiB).toFixed(2)} GiB, ` +
                `${r.progress} progress events, ${r.tokens.length} tokens identical to native`);
        }
    }
    assert.deepEqual(errors, [], 'no page errors');
    console.log(`PASS Memory64 above 4 GiB in Chromium (${cases.length} models × 1/2 threads)`);
} catch (e) {
    failed = true;
    console.log(`FAIL ${e.message}`);
} finally {
    await browser.close();
    await srv.close();
}
process.exit(failed ? 1 : 0);
