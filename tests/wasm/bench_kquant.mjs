#!/usr/bin/env node
// bench_kquant.mjs — GB/s of the simd128 matvec kernels (tests/wasm_test_quant.c's wtq_bench) for
// chosen types, several modules side by side, interleaved repetitions (the machine is shared and
// noisy: compare modules within one run). Each module is warmed up first so V8 has tiered up.
// usage: node bench_kquant.mjs [--types=q4_K,q6_K] [--reps=5] A.wasm [B.wasm ...]
import fs from 'node:fs';

const args = process.argv.slice(2);
const opt = (k, d) => { const a = args.find((s) => s.startsWith(`--${k}=`)); return a ? a.split('=')[1] : d; };
const types = opt('types', 'q4_K,q6_K').split(',');
const reps = +opt('reps', '5');
const files = args.filter((s) => !s.startsWith('--'));
const rows = 1024, cols = 4096, iters = 10;

async function load(file) {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const env = { memory, chord_host_now_ms: () => performance.now(), chord_host_read: () => 4, chord_host_token: () => 1 };
    const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), { env });
    const x = instance.exports;
    const cstr = (p) => { const u8 = new Uint8Array(memory.buffer); let e = p; while (u8[e]) e++; return Buffer.from(u8.slice(p, e)).toString(); };
    const idx = {};
    for (let i = 0; i < x.wtq_count(); i++) idx[cstr(x.wtq_name(i))] = i;
    const failures = x.wtq_run();
    if (failures) throw new Error(`${file}: ${failures} kernel check failures: ${cstr(x.wtq_last_failure())}`);
    for (const t of types) x.wtq_bench(idx[t], rows, cols, iters, 1); // warm-up / tier-up
    return { file, x, idx, best: {}, all: {} };
}
const mods = [];
for (const f of files) mods.push(await load(f));
for (let r = 0; r < reps; r++)
    for (const t of types)
        for (const m of mods) {
            const ms = m.x.wtq_bench(m.idx[t], rows, cols, iters, 1);
            const gbs = m.x.wtq_row_bytes(m.idx[t], cols) * rows / ms / 1e6;
            (m.all[t] ??= []).push(+gbs.toFixed(2));
            m.best[t] = Math.max(m.best[t] ?? 0, gbs);
        }
for (const m of mods)
    console.log(m.file, types.map((t) => `${t} best ${m.best[t].toFixed(2)} GB/s [${m.all[t].join(' ')}]`).join(' | '));
