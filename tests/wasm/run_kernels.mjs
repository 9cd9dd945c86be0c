#!/usr/bin/env node
// run_kernels.mjs — runs build/wasm/test-quant-wasm*.wasm (tests/wasm_test_quant.c): the simd128
// kernels against the scalar reference, then (with --bench) matvec GB/s per type, simd vs scalar.
// Prints one JSON line { checks, failures, lastFailure, bench }.
// usage: node [--experimental-wasm-memory64] run_kernels.mjs MODULE.wasm [--bench]
// (relaxed modules run under Node 20 too: enableRelaxedSimd turns V8's flag on)
import fs from 'node:fs';
import { detectTarget, enableRelaxedSimd } from '../../js/src/core.js';

const [, , file, bench] = process.argv;
const bytes = fs.readFileSync(file);
const is64 = detectTarget(bytes) === 'wasm64';
// a relaxed module under Node 20: V8's flag, set at run time (js/src/core.js)
if (!WebAssembly.validate(bytes)) await enableRelaxedSimd();
const memory = is64 ? new WebAssembly.Memory({ index: 'i64', initial: 64, maximum: 65536, shared: true })
    : new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
const env = { memory, chord_host_now_ms: () => performance.now(), chord_host_read: () => 4, chord_host_token: () => 1 };
const { instance } = await WebAssembly.instantiate(bytes, { env });
const x = instance.exports;
const cstr = (p) => { const u8 = new Uint8Array(memory.buffer); let e = Number(p); const s = e; while (u8[e]) e++; return Buffer.from(u8.slice(s, e)).toString(); };
const failures = x.wtq_run();
const out = { checks: x.wtq_checks(), failures, lastFailure: failures ? cstr(x.wtq_last_failure()) : '' };
if (bench) {
    out.bench = {};
    const rows = 1024, cols = 4096;
    for (let i = 0; i < x.wtq_count(); i++) {
        const name = cstr(x.wtq_name(i));
        const bytesPerPass = x.wtq_row_bytes(i, cols) * rows;
        const simd = x.wtq_bench(i, rows, cols, 5, 1), ref = x.wtq_bench(i, rows, cols, 2, 0);
        out.bench[name] = { simd_GBs: +(bytesPerPass / simd / 1e6).toFixed(2), scalar_GBs: +(bytesPerPass / ref / 1e6).toFixed(2) };
    }
}
console.log(JSON.stringify(out));
