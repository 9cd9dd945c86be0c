#!/usr/bin/env node
// bench_kquant_chromium.mjs — bench_kquant.mjs in headless Chromium (Debian's /usr/bin/chromium via
// playwright-core, as chromium_check.mjs): GB/s of the simd128 / relaxed-SIMD matvec kernels of
// several test-quant-wasm{32,64}*.wasm modules, interleaved repetitions, after a warm-up and after
// checking each module's kernels against the scalar reference.
// --mode=rows times the 4-row prompt kernels instead (GB/s = weight bytes × 4 rows / s), and
// --mode=rows1 the same 4 rows as 4 single-row calls.
// usage: node bench_kquant_chromium.mjs [--types=q4_K,q6_K] [--reps=5] [--mode=vec|rows|rows1] A.wasm [B.wasm ...]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (k, d) => { const a = args.find((s) => s.startsWith(`--${k}=`)); return a ? a.split('=')[1] : d; };
const types = opt('types', 'q4_K,q6_K').split(',');
const reps = +opt('reps', '5');
const mode = opt('mode', 'vec');
const files = args.filter((s) => !s.startsWith('--')).map((f) => path.resolve(f));
let chromium;
try { ({ chromium } = await import(path.join(root, 'node_modules/playwright-core/index.mjs'))); } catch {
    console.log('SKIP: playwright-core not installed'); process.exit(0);
}
if (!fs.existsSync('/usr/bin/chromium')) { console.log('SKIP: no /usr/bin/chromium'); process.exit(0); }
const hdr = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
const server = http.createServer((req, res) => {
    const m = /^\/m(\d+)\.wasm$/.exec(req.url);
    if (req.url === '/') { res.writeHead(200, { 'content-type': 'text/html', ...hdr }); res.end('<!doctype html><title>bench</title>'); return; }
    if (!m || !files[+m[1]]) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/wasm', ...hdr }); res.end(fs.readFileSync(files[+m[1]]));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const out = await page.evaluate(async ({ nfiles, types, reps, is64, mode }) => {
        const rows = 1024, cols = 4096, iters = 10, mods = [];
        for (let f = 0; f < nfiles; f++) {
            const memory = is64[f] ? new WebAssembly.Memory({ address: 'i64', initial: 64n, maximum: 65536n, shared: true })
                : new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
            const env = { memory, chord_host_now_ms: () => performance.now(), chord_host_read: () => 4, chord_host_token: () => 1 };
            const { instance } = await WebAssembly.instantiate(await (await fetch(`/m${f}.wasm`)).arrayBuffer(), { env });
            const x = instance.exports;
            const cstr = (q) => { const p = Number(q), u8 = new Uint8Array(memory.buffer); let e = p; while (u8[e]) e++; return new TextDecoder().decode(u8.slice(p, e)); };
            const idx = {};
            const rowsMode = mode !== 'vec';
            const count = rowsMode ? x.wtq_rows_count() : x.wtq_count();
            for (let i = 0; i < count; i++) idx[cstr(rowsMode ? x.wtq_rows_name(i) : x.wtq_name(i))] = i;
            // ms per pass of case i, and the weight bytes it reads (× 4 activation rows in rows modes)
            const time = (i) => rowsMode ? x.wtq_bench_rows(i, rows, cols, iters, mode === 'rows' ? 1 : 0) : x.wtq_bench(i, rows, cols, iters, 1);
            const bytes = (i) => rowsMode ? 4 * x.wtq_row_bytes_of(x.wtq_rows_type(i), cols) * rows : x.wtq_row_bytes(i, cols) * rows;
            const failures = x.wtq_run();
            for (const t of types) time(idx[t]);
            mods.push({ x, time, bytes, idx, failures, lastFailure: failures ? cstr(x.wtq_last_failure()) : '', all: {} });
        }
        for (let r = 0; r < reps; r++)
            for (const t of types)
                for (const m of mods) {
                    const ms = m.time(m.idx[t]);
                    (m.all[t] ??= []).push(+(m.bytes(m.idx[t]) / ms / 1e6).toFixed(2));
                }
        return mods.map((m) => ({ failures: m.failures, lastFailure: m.lastFailure, all: m.all }));
    }, { nfiles: files.length, types, reps, mode, is64: files.map((f) => /wasm64/.test(path.basename(f))) });
    out.forEach((m, i) => console.log(files[i], m.failures ? `FAIL ${m.failures}: ${m.lastFailure}` : 'ok',
        types.map((t) => `${t} best ${Math.max(...m.all[t]).toFixed(2)} GB/s [${m.all[t].join(' ')}]`).join(' | ')));
} finally {
    await browser.close();
    server.close();
}
