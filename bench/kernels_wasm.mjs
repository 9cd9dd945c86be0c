// kernels_wasm.mjs — the wasm half of `make bench-kernels`: GB/s of weights per type for every
// wasm target, beside the memory read bandwidth each target measures itself. Runs the kernel
// test modules (build/wasm/test-quant-*.wasm, tests/wasm_test_quant.c): wasm32 and wasm64
// (plain simd128) in this Node, and all four builds (plain and relaxed SIMD, wasm32 and wasm64)
// in headless Chromium. Each module first checks its kernels against the scalar reference (a
// failing module is reported, not timed). Columns per target: the single-row matvec (decode) and
// the 4-row kernel of prompt batches (weight bytes × 4 rows / s), and for the types that have one
// the decode kernel over nr weight rows per call (--wrows: the nr values, default 4; weight bytes / s,
// the same matvec as the single-row column), and for the types with a prompt tile kernel a prompt
// batch of --tile-tokens tokens (default 64) as ops.c runs it, multi-row kernel vs tile kernel
// (weight bytes × tokens / s). 1 thread, best of --reps.
//
//   node bench/kernels_wasm.mjs [--build-dir build] [--mib 32] [--reps 3] [--types q4_K,q6_K,...]
//        [--no-chromium] [--no-node] [--variants wasm32-relaxed,...] [--wrows 2,4] [--iters 3] [--json FILE]
//        [--tile-tokens 64]
// (internal: --child FILE runs one module in this process and prints its JSON.)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = { buildDir: process.env.BUILD ?? 'build', mib: 32, reps: 3, types: null, chromium: true, node: true,
    variants: ['wasm32', 'wasm32-relaxed', 'wasm64', 'wasm64-relaxed'], json: null, child: null, wrows: [4], iters: 3, tileTokens: 64 };
for (let i = 0; i < args.length; i++) {
    const a = args[i], v = () => args[++i];
    if (a === '--build-dir') opt.buildDir = v();
    else if (a === '--mib') opt.mib = Number(v());
    else if (a === '--reps') opt.reps = Number(v());
    else if (a === '--types') opt.types = v().split(',');
    else if (a === '--no-chromium') opt.chromium = false;
    else if (a === '--no-node') opt.node = false;
    else if (a === '--variants') opt.variants = v().split(',');
    else if (a === '--json') opt.json = v();
    else if (a === '--iters') opt.iters = Number(v());
    else if (a === '--wrows') opt.wrows = v().split(',').map(Number);
    else if (a === '--child') opt.child = v();
    else if (a === '--tile-tokens') opt.tileTokens = Number(v());
    else { console.error(`kernels_wasm: unknown option ${a}`); process.exit(2); }
}
const wasmDir = path.resolve(repo, opt.buildDir, 'wasm');

// Runs in Node or in the page: instantiate, check, time. `bytes` is the module; `is64` its target.
async function measure({ bytes, is64, mib, reps, types, wrows, iters, tileTokens }) {
    const memory = is64 ? new WebAssembly.Memory(typeof window === 'undefined'
        ? { index: 'i64', initial: 64, maximum: 65536, shared: true }
        : { address: 'i64', initial: 64n, maximum: 65536n, shared: true })
        : new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const env = { memory, chord_host_now_ms: () => performance.now(), chord_host_read: () => 4, chord_host_token: () => 1 };
    const { instance } = await WebAssembly.instantiate(bytes, { env });
    const x = instance.exports;
    const cstr = (q) => { const p = Number(q), u8 = new Uint8Array(memory.buffer); let e = p; while (u8[e]) e++; return new TextDecoder().decode(u8.slice(p, e)); };
    const failures = x.wtq_run();
    if (failures) return { failures, lastFailure: cstr(x.wtq_last_failure()) };
    const cols = 4096, out = { failures: 0, bandwidth: 0, single: {}, rows4: {}, wrows: {}, tile: {} };
    const rowsFor = (rb) => Math.max(1, Math.round(mib * 1048576 / rb));
    const rowsIdx = {};
    for (let i = 0; i < x.wtq_rows_count(); i++) rowsIdx[cstr(x.wtq_rows_name(i))] = i;
    const wIdx = {};
    for (let i = 0; i < (x.wtq_wrows_count?.() ?? 0); i++) wIdx[cstr(x.wtq_wrows_name(i))] = i;
    const tIdx = {};
    for (let i = 0; i < (x.wtq_tile_count?.() ?? 0); i++) tIdx[cstr(x.wtq_tile_name(i))] = i;
    for (let rep = 0; rep < reps; rep++) {
        out.bandwidth = Math.max(out.bandwidth, x.wtq_bandwidth(Math.max(64, mib * 2), 3));
        for (let i = 0; i < x.wtq_count(); i++) {
            const name = cstr(x.wtq_name(i));
            if (types && !types.includes(name)) continue;
            const rb = x.wtq_row_bytes(i, cols), rows = rowsFor(rb);
            const gb = rb * rows / 1e9;
            out.single[name] = Math.max(out.single[name] ?? 0, gb / (x.wtq_bench(i, rows, cols, iters, 1) / 1e3));
            if (name in rowsIdx)
                out.rows4[name] = Math.max(out.rows4[name] ?? 0, 4 * gb / (x.wtq_bench_rows(rowsIdx[name], rows, cols, iters, 1) / 1e3));
            if (name in wIdx) {
                const w = (out.wrows[name] ??= {});
                for (const nr of wrows) w[nr] = Math.max(w[nr] ?? 0, gb / (x.wtq_bench_wrows(wIdx[name], rows, cols, iters, nr) / 1e3));
            }
            if (name in tIdx) { /* a quarter of the matrix: each pass runs every token over it */
                const tr = Math.max(16, rows >> 2), tg = rb * tr * tileTokens / 1e9, tt = (out.tile[name] ??= {});
                for (const k of [0, 1]) tt[k] = Math.max(tt[k] ?? 0, tg / (x.wtq_bench_tile(tIdx[name], tr, cols, tileTokens, iters, k) / 1e3));
            }
        }
    }
    return out;
}

if (opt.child) {
    const bytes = fs.readFileSync(opt.child);
    const r = await measure({ bytes, is64: /wasm64/.test(path.basename(opt.child)), mib: opt.mib, reps: opt.reps, types: opt.types, wrows: opt.wrows, iters: opt.iters, tileTokens: opt.tileTokens });
    console.log(JSON.stringify(r));
    process.exit(0);
}

const results = {}; // target label -> measure() result or { error }
const nodeMods = opt.node ? ['wasm32', 'wasm64'].filter((v) => opt.variants.includes(v)) : [];
for (const v of nodeMods) {
    const f = path.join(wasmDir, `test-quant-${v}.wasm`);
    const label = `Node ${process.versions.node} ${v}`;
    if (!fs.existsSync(f)) { results[label] = { error: `${f} missing (make wasm)` }; continue; }
    const flags = v === 'wasm64' ? ['--experimental-wasm-memory64'] : [];
    try {
        const out = execFileSync(process.execPath, [...flags, fileURLToPath(import.meta.url), '--child', f, '--mib', String(opt.mib),
            '--reps', String(opt.reps), '--wrows', opt.wrows.join(','), '--iters', String(opt.iters), '--tile-tokens', String(opt.tileTokens), ...(opt.types ? ['--types', opt.types.join(',')] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
        results[label] = JSON.parse(out.trim().split('\n').pop());
    } catch (e) { results[label] = { error: e.message.split('\n')[0] }; }
}

if (opt.chromium) {
    const { launch } = await import(path.join(repo, 'tests/browser/chromium.mjs')).catch(() => ({}));
    const chromiumOk = launch && fs.existsSync('/usr/bin/chromium') && fs.existsSync(path.join(repo, 'node_modules/playwright-core'));
    if (!chromiumOk) console.log('SKIP Chromium: /usr/bin/chromium or playwright-core missing');
    else {
        const http = await import('node:http');
        const hdr = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
        const variants = opt.variants;
        const server = http.createServer((req, res) => {
            const m = /^\/(wasm(?:32|64)(?:-relaxed)?)\.wasm$/.exec(req.url);
            if (req.url === '/') { res.writeHead(200, { 'content-type': 'text/html', ...hdr }); res.end('<!doctype html><title>kernels</title>'); return; }
            const f = m && path.join(wasmDir, `test-quant-${m[1]}.wasm`);
            if (!f || !fs.existsSync(f)) { res.writeHead(404); res.end(); return; }
            res.writeHead(200, { 'content-type': 'application/wasm', ...hdr }); res.end(fs.readFileSync(f));
        });
        await new Promise((r) => server.listen(0, '127.0.0.1', r));
        const b = await launch();
        try {
            const page = await b.page();
            await page.goto(`http://127.0.0.1:${server.address().port}/`);
            const ver = await page.evaluate(() => /Chrome\/([\d.]+)/.exec(navigator.userAgent)?.[1] ?? '');
            for (const v of variants) {
                const label = `Chromium ${ver.split('.')[0] || ''} ${v}`.replace(/\s+/g, ' ');
                try {
                    results[label] = await page.evaluate(async ({ src, v, mib, reps, types, wrows, iters, tileTokens }) => {
                        const measureFn = new Function(`return (${src})`)();
                        const r = await fetch(`/${v}.wasm`);
                        if (!r.ok) return { error: `${v}: HTTP ${r.status}` };
                        return measureFn({ bytes: await r.arrayBuffer(), is64: v.startsWith('wasm64'), mib, reps, types, wrows, iters, tileTokens });
                    }, { src: measure.toString(), v, mib: opt.mib, reps: opt.reps, types: opt.types, wrows: opt.wrows, iters: opt.iters, tileTokens: opt.tileTokens });
                } catch (e) { results[label] = { error: e.message.split('\n')[0].slice(0, 160) }; }
            }
        } finally {
            await b.close();
            server.close();
        }
    }
}

// ---- the table ----
const labels = Object.keys(results);
const typesSeen = [...new Set(labels.flatMap((l) => Object.keys(results[l].single ?? {})))];
const f2 = (x) => (x == null ? '—' : x.toFixed(2));
console.log(`\n### wasm kernels, 1 thread, ~${opt.mib} MiB of weights per matrix (row n=4096), GB/s of weights; ` +
    `CPU ${/^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
console.log(`| type | ${labels.map((l) => `${l} (single row / ×4 rows / decode ${opt.wrows.map((k) => `${k}w`).join(', ')} / prompt ×${opt.tileTokens} rows→tile)`).join(' | ')} |`);
console.log(`|---|${labels.map(() => '---:').join('|')}|`);
console.log(`| memory read bandwidth | ${labels.map((l) => (results[l].error ? `error: ${results[l].error}` : results[l].failures
    ? `FAIL: ${results[l].lastFailure}` : f2(results[l].bandwidth))).join(' | ')} |`);
for (const t of typesSeen)
    console.log(`| ${t} | ${labels.map((l) => { const r = results[l]; if (!r.single) return '—'; const bw = r.bandwidth;
        const s = r.single[t], m = r.rows4[t], w = r.wrows?.[t], tl = r.tile?.[t];
        return `${f2(s)}${m != null ? ` / ${f2(m)}` : ''}${w ? ` / ${opt.wrows.map((k) => f2(w[k])).join(', ')}` : ''}` +
            `${tl ? ` / ${f2(tl[0])}→${f2(tl[1])}` : ''} ` +
            `(${bw ? ((s / bw) * 100).toFixed(0) : '—'}% of bw)`; }).join(' | ')} |`);
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(results, null, 2));
const bad = labels.filter((l) => results[l].failures);
if (bad.length) { console.log(`FAIL: kernel checks failed in ${bad.join(', ')}`); process.exit(1); }
