#!/usr/bin/env node
// wasm_table32.mjs — lowers the 64-bit function table that clang/wasm-ld 19 emit for wasm64
// to a 32-bit one, so the wasm64 build also runs where Memory64 exists but table64 does not
// (node 20 with --experimental-wasm-memory64). Chromium accepts either form.
//
// What changes: the table's limits lose the i64 flag, element segment offsets become i32.const,
// and every call_indirect gets an i32.wrap_i64 in front of its (i64) table index. Function
// "pointers" stay i64 values in memory; indices are small, so wrapping loses nothing. Any other
// table instruction is refused (C code does not produce them). Every function body must decode
// exactly to its end, which checks the instruction decoder on the whole module.
//
// usage: node platform/wasm_table32.mjs in.wasm out.wasm

import fs from 'node:fs';

const [, , inPath, outPath] = process.argv;
const src = fs.readFileSync(inPath);
let pos = 0;

function u32() {
    let r = 0, shift = 0, b;
    do { b = src[pos++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return r;
}
function skipLeb() { while (src[pos++] & 0x80) { /* continuation */ } }
function leb(n) {
    const out = [];
    do { let b = n % 128; n = Math.floor(n / 128); if (n) b |= 0x80; out.push(b); } while (n);
    return out;
}
const fail = (msg) => { throw new Error(`wasm_table32: ${msg} at byte ${pos}`); };

function memarg() {
    const align = u32();
    if (align & 0x40) u32(); // memory index
    skipLeb();               // offset (u64 in memory64)
}

// Copies one function body's instructions from pos to end, inserting wrap before call_indirect.
function lowerBody(end, out) {
    let last = pos;
    const flush = (to) => { for (let i = last; i < to; i++) out.push(src[i]); last = to; };
    while (pos < end) {
        const at = pos;
        const op = src[pos++];
        if (op === 0x02 || op === 0x03 || op === 0x04) {
            const b = src[pos];
            if (b === 0x40 || (b >= 0x6f && b <= 0x7f)) pos++;
            else skipLeb();
        } else if (op === 0x0c || op === 0x0d || op === 0x10 || (op >= 0x20 && op <= 0x24) || op === 0xd2) {
            u32();
        } else if (op === 0x0e) {
            const n = u32();
            for (let i = 0; i <= n; i++) u32();
        } else if (op === 0x11) {
            flush(at);
            out.push(0xa7); // i32.wrap_i64
            u32(); u32();
        } else if (op === 0x12 || op === 0x13 || op === 0x25 || op === 0x26) {
            fail(`unsupported table/tail-call instruction 0x${op.toString(16)}`);
        } else if (op === 0x1c) {
            const n = u32();
            pos += n;
        } else if (op >= 0x28 && op <= 0x3e) {
            memarg();
        } else if (op === 0x3f || op === 0x40) {
            u32();
        } else if (op === 0x41 || op === 0x42) {
            skipLeb();
        } else if (op === 0x43) {
            pos += 4;
        } else if (op === 0x44) {
            pos += 8;
        } else if (op === 0xd0) {
            pos++;
        } else if (op === 0xfc) {
            const sub = u32();
            if (sub <= 7) { /* saturating truncations */ }
            else if (sub === 8 || sub === 10) { u32(); u32(); }
            else if (sub === 9 || sub === 11) u32();
            else fail(`unsupported table instruction 0xfc ${sub}`);
        } else if (op === 0xfd) {
            const sub = u32();
            if (sub <= 11 || sub === 92 || sub === 93) memarg();
            else if (sub === 12 || sub === 13) pos += 16;
            else if (sub >= 21 && sub <= 34) pos++;
            else if (sub >= 84 && sub <= 91) { memarg(); pos++; }
        } else if (op === 0xfe) {
            const sub = u32();
            if (sub === 3) pos++;
            else memarg();
        } else if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b ||
                   op === 0xd1 || (op >= 0x45 && op <= 0xc4)) {
            /* no immediates */
        } else {
            fail(`unknown opcode 0x${op.toString(16)}`);
        }
    }
    if (pos !== end) fail('instruction decoding overran the function body');
    flush(end);
}

function lowerCode(end) {
    const out = [];
    const n = u32();
    out.push(...leb(n));
    let calls = 0;
    for (let f = 0; f < n; f++) {
        const size = u32();
        const bodyEnd = pos + size;
        const body = [];
        const localsStart = pos;
        const groups = u32();
        for (let g = 0; g < groups; g++) { u32(); pos++; }
        for (let i = localsStart; i < pos; i++) body.push(src[i]);
        const before = body.length;
        lowerBody(bodyEnd, body);
        calls += body.length - before - (bodyEnd - (localsStart + before));
        out.push(...leb(body.length));
        for (const b of body) out.push(b);
    }
    if (pos !== end) fail('code section size mismatch');
    return { out, calls };
}

function lowerTable(end) {
    const out = [];
    const n = u32();
    out.push(...leb(n));
    for (let t = 0; t < n; t++) {
        out.push(src[pos++]); // reftype
        const flags = src[pos++];
        out.push(flags & ~0x04);
        const start = pos;
        u32();
        if (flags & 1) u32();
        for (let i = start; i < pos; i++) out.push(src[i]);
    }
    if (pos !== end) fail('table section size mismatch');
    return out;
}

function lowerElem(end) {
    const out = [];
    const start = pos;
    const n = u32();
    for (let i = 0; i < n; i++) {
        const flags = u32();
        if (flags !== 0 && flags !== 2) fail(`element segment kind ${flags} not handled`);
        if (flags === 2) u32();
        if (src[pos] === 0x42) src[pos] = 0x41; // i64.const offset → i32.const (same LEB)
        pos++;
        skipLeb();
        if (src[pos++] !== 0x0b) fail('element offset is not a single constant');
        if (flags === 2) pos++; // elemkind
        const m = u32();
        for (let j = 0; j < m; j++) u32();
    }
    if (pos !== end) fail('element section size mismatch');
    for (let i = start; i < end; i++) out.push(src[i]);
    return out;
}

if (src.readUInt32LE(0) !== 0x6d736100) fail('not a wasm module');
const out = [...src.subarray(0, 8)];
pos = 8;
let stats = { tables: 0, calls: 0 };
while (pos < src.length) {
    const id = src[pos++];
    const size = u32();
    const end = pos + size;
    let body = null;
    if (id === 4) { body = lowerTable(end); stats.tables++; }
    else if (id === 9) body = lowerElem(end);
    else if (id === 10) { const r = lowerCode(end); body = r.out; stats.calls = r.calls; }
    if (body) {
        out.push(id, ...leb(body.length));
        for (const b of body) out.push(b);
    } else {
        out.push(id, ...leb(size));
        for (let i = pos; i < end; i++) out.push(src[i]);
    }
    pos = end;
}
const bytes = Uint8Array.from(out);
if (!WebAssembly.validate(bytes) && typeof WebAssembly.validate === 'function') {
    // node without --experimental-wasm-memory64 cannot validate wasm64 at all; that is fine.
}
fs.writeFileSync(outPath, bytes);
console.log(`wasm_table32: ${inPath} → ${outPath}: ${stats.tables} table(s) lowered, ${stats.calls} call_indirect wrapped`);
