#!/usr/bin/env node
// chromium_check.mjs — the wasm builds in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; never downloads a browser): serves the repository with the COOP/COEP headers
// that SharedArrayBuffer needs, then in the page (1) runs the kernel test modules (simd128,
// relaxed, wasm64, wasm64-relaxed) against the scalar reference and times them, and (2) generates greedy tokens
// with each engine build through js/src/core.js with 1 and 2 threads.
// Prints one JSON line. usage: node chromium_check.mjs WASM_DIR MODEL.gguf N [PROMPT] [--bench]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const [, , wasmDir, modelPath, n = '64', ...rest] = process.argv;
const bench = rest.includes('--bench');
const prompt = rest.find((a) => a !== '--bench') ?? '';
let chromium;
try { ({ chromium } = await import(path.join(root, 'node_modules/playwright-core/index.mjs'))); } catch {
    console.log(JSON.stringify({ skip: 'playwright-core not installed' })); process.exit(0);
}
if (!fs.existsSync('/usr/bin/chromium')) { console.log(JSON.stringify({ skip: 'no /usr/bin/chromium' })); process.exit(0); }

const files = { '/model.gguf': path.resolve(modelPath) };
const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = files[url] ?? (url.startsWith('/wasm/') ? path.join(path.resolve(wasmDir), url.slice(6)) : path.join(root, url));
    if (url === '/') { res.writeHead(200, { 'content-type': 'text/html', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }); res.end('<!doctype html><title>wasm check</title>'); return; }
    if (!file.startsWith(root) && !file.startsWith(path.resolve(wasmDir)) && !Object.values(files).includes(file)) { res.writeHead(403); res.end(); return; }
    fs.readFile(file, (err, data) => {
        if (err) { res.writeHead(404); res.end(); return; }
        const type = file.endsWith('.js') || file.endsWith('.mjs') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
        res.writeHead(200, { 'content-type': type, 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' });
        res.end(data);
    });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
    const page = await browser.newPage();
    await page.goto(base + '/');
    const result = await page.evaluate(async ({ n, bench, prompt }) => {
        const out = { crossOriginIsolated, kernels: {}, tokens: {} };
        const cstr = (mem, p) => { const u8 = new Uint8Array(mem.buffer); let e = Number(p); const s = e; while (u8[e]) e++; return new TextDecoder().decode(u8.slice(s, e)); };
        for (const f of ['test-quant-wasm32.wasm', 'test-quant-wasm32-relaxed.wasm', 'test-quant-wasm64.wasm', 'test-quant-wasm64-relaxed.wasm']) {
            const is64 = f.includes('64');
            const memory = is64 ? new WebAssembly.Memory({ address: 'i64', initial: 64n, maximum: 65536n, shared: true })
                : new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
            const env = { memory, chord_host_now_ms: () => performance.now(), chord_host_read: () => 4, chord_host_token: () => 1 };
            try {
                const { instance } = await WebAssembly.instantiateStreaming(fetch('/wasm/' + f), { env });
                const x = instance.exports;
                const failures = x.wtq_run();
                const r = { checks: x.wtq_checks(), failures, lastFailure: failures ? cstr(memory, x.wtq_last_failure()) : '' };
                if (bench) {
                    r.GBs = {};
                    for (let i = 0; i < x.wtq_count(); i++) {
                        const bytes = x.wtq_row_bytes(i, 4096) * 1024;
                        r.GBs[cstr(memory, x.wtq_name(i))] = +(bytes / x.wtq_bench(i, 1024, 4096, 5, 1) / 1e6).toFixed(2);
                    }
                }
                out.kernels[f] = r;
            } catch (e) { out.kernels[f] = { error: String(e) }; }
        }
        const { createEngine } = await import('/js/src/core.js');
        const model = new Uint8Array(await (await fetch('/model.gguf')).arrayBuffer());
        for (const f of ['chord-wasm32.wasm', 'chord-wasm32-relaxed.wasm', 'chord-wasm64.wasm', 'chord-wasm64-relaxed.wasm']) {
            for (const threads of [1, 2]) {
                try {
                    const engine = await createEngine({ wasm: '/wasm/' + f, threads });
                    const l = engine.beginLoad(model.length);
                    l.write(model);
                    const m = l.finishLoad();
                    const s = m.newSession({ nCtx: 512 });
                    s.feed(m.tokenize(prompt));
                    const smp = engine.newSampler({ temperature: 0 });
                    const toks = [];
                    s.generate(smp, n, (t) => { toks.push(t); });
                    out.tokens[`${f}-${threads}t`] = toks;
                    smp.dispose(); s.dispose(); m.dispose(); engine.dispose();
                } catch (e) { out.tokens[`${f}-${threads}t`] = { error: String(e?.message ?? e) }; }
            }
        }
        return out;
    }, { n: Number(n), bench, prompt });
    console.log(JSON.stringify(result));
} finally {
    await browser.close();
    server.close();
}
