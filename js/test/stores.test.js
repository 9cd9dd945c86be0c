// stores.test.js — host stores (js/src/stores.js) through loadModel's `store` option in Node: a
// model split over >= 3 ArrayBuffer regions (given, or filled from a path), a file path read
// with positioned reads, a Blob, and a URL read by HTTP Range requests (fetch in a helper worker,
// the engine waiting on an atomic: store_bridge.js) all give the native
// token ids (1 and 2 threads); failed, short and out-of-range reads are ChordError('io') naming
// the offset; wrong store/source pairs are refused. The browser kinds (FileReaderSync, sync XHR,
// OPFS) run in tests/browser/stores.mjs.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '../src/index.js';
import { RegionStore, PathStore, RangeStore, BlobStore, REGION_MAX } from '../src/stores.js';
import { serve } from '../../tools/serve.mjs';
import { MODEL, SKIP_MODEL, hasWasm, wasmBase, expectChordError, nativeTokens, greedyTokens } from './helpers.js';

const skip = SKIP_MODEL || (hasWasm ? false : 'SKIP: wasm builds not found (make wasm)');
const N = 24;
const bytes = skip ? null : new Uint8Array(fs.readFileSync(MODEL));

const ref = () => nativeTokens(N);

const tokensOf = (model, n = N) => greedyTokens(model, n);


function splitRegions(n) {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    const cut = Math.ceil(ab.byteLength / n);
    const out = [];
    for (let o = 0; o < ab.byteLength; o += cut) out.push(ab.slice(o, Math.min(ab.byteLength, o + cut)));
    return out;
}

async function check(source, opts, expect) {
    let progress = 0;
    const model = await loadModel(source, { wasmBase, threads: 1, ...opts, onProgress: () => { progress++; } });
    try {
        assert.equal(model.info.store.kind, expect.kind);
        assert.equal(model.info.store.read, expect.read);
        if (expect.regions) assert.ok(model.info.store.regions >= expect.regions, `regions ${model.info.store.regions}`);
        assert.ok(progress >= 1, 'progress reported');
        const t = await tokensOf(model);
        assert.equal(t.length, N);
        if (ref()) assert.deepEqual(t, ref(), `${expect.kind}: token ids differ from native`);
        return t;
    } finally {
        await model.dispose();
    }
}

test('regions: a model split over 4 given ArrayBuffers, 1 and 2 threads', { skip }, async () => {
    for (const threads of [1, 2]) {
        const regions = splitRegions(4);
        await check({ regions }, { threads }, { kind: 'regions', read: 'host', regions: 4 });
        assert.equal(regions[0].byteLength, 0, 'the regions were transferred to the engine worker');
    }
});

test('regions: filled once from a file path, 3+ regions of regionBytes', { skip }, async () => {
    await check(MODEL, { store: 'regions', regionBytes: Math.ceil(bytes.length / 3) }, { kind: 'regions', read: 'host', regions: 3 });
});

test('path: positioned reads through the engine read import, 1 and 2 threads', { skip }, async () => {
    for (const threads of [1, 2]) await check(MODEL, { store: 'path', threads }, { kind: 'path', read: 'host' });
});

test('blob: read by slices (Node has no FileReaderSync: pieces copied in)', { skip }, async () => {
    await check(new Blob([bytes]), { store: 'blob' }, { kind: 'blob', read: 'copy' });
});

test('range: a URL read by HTTP Range requests, synchronously through a helper worker, 1 and 2 threads', { skip }, async () => {
    const srv = await serve({ port: 0 });
    try {
        for (const threads of [1, 2])
            await check(`${srv.url}models/stories260K.gguf`, { store: 'range', threads }, { kind: 'range', read: 'host' });
    } finally { await srv.close(); }
});

// A server whose Range answers go wrong past the first MiB (the header read works).
async function faultyServer(mode) {
    const server = http.createServer((req, res) => {
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        if (mode === 'no-range' || !m) { res.writeHead(200, { 'Content-Length': bytes.length }); res.end(bytes); return; }
        const a = Number(m[1]), b = Math.min(Number(m[2]), bytes.length - 1);
        if (b >= 1 << 20 && mode === 'http500') { res.writeHead(500); res.end(); return; }
        const body = b >= 1 << 20 && mode === 'short' ? bytes.subarray(a, b + 1 - 100) : bytes.subarray(a, b + 1);
        res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${bytes.length}`, 'Content-Length': body.length });
        res.end(body);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${server.address().port}/m.gguf`, close: () => new Promise((r) => server.close(r)) };
}

test('aborting a store load is cancelled; the next load works', { skip }, async () => {
    const ac = new AbortController();
    const p = loadModel(MODEL, { wasmBase, store: 'path', signal: ac.signal });
    ac.abort();
    await expectChordError(p, 'cancelled');
    const pre = new AbortController();
    pre.abort();
    await expectChordError(loadModel(MODEL, { wasmBase, store: 'regions', signal: pre.signal }), 'cancelled');
    await check(MODEL, { store: 'path' }, { kind: 'path', read: 'host' });
});

test('range faults: wrong length and HTTP errors are io naming the offset; no Range support is refused', { skip }, async () => {
    // The store names its offset and length; the engine adds what it was reading.
    for (const [mode, re] of [['short', /range store m\.gguf: reading \d+ bytes at offset \d+ failed: got \d+ bytes \(reading weights at offset \d+/],
        ['http500', /range store m\.gguf: reading \d+ bytes at offset \d+ failed: HTTP 500/]]) {
        const s = await faultyServer(mode);
        try { await expectChordError(loadModel(s.url, { wasmBase, store: 'range' }), 'io', re); } finally { await s.close(); }
    }
    const s = await faultyServer('no-range');
    try { await expectChordError(loadModel(s.url, { wasmBase, store: 'range' }), 'unsupported', /ignores Range/); } finally { await s.close(); }
});

test('store reads: out of range, closed, truncated file are io naming offset and length', { skip }, async () => {
    const r = new RegionStore(splitRegions(3));
    const dst = new Uint8Array(64);
    r.readSync(r.size - 64, dst);
    assert.deepEqual(dst, bytes.subarray(bytes.length - 64));
    assert.throws(() => r.readSync(r.size - 10, dst), (e) => e.code === 'io' && /64 bytes at offset \d+ failed: outside/.test(e.message));
    r.close();
    assert.throws(() => r.readSync(0, dst), (e) => e.code === 'io' && /at offset 0 failed: the store is closed/.test(e.message));

    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'chord-stores-')), 'm.gguf');
    fs.writeFileSync(tmp, bytes);
    const p = new PathStore(tmp);
    await p.open();
    fs.truncateSync(tmp, 4096);
    assert.throws(() => p.readSync(100000, dst), (e) => e.code === 'io' && /path store m\.gguf: reading 64 bytes at offset 100000 failed: the file ended early/.test(e.message));
    p.close();
    fs.rmSync(path.dirname(tmp), { recursive: true });
    await expectChordError(new PathStore('/nonexistent/m.gguf').open(), 'io', /nonexistent/);

    const b = new BlobStore(new Blob([bytes]));
    assert.deepEqual(await b.read(5, 10), bytes.subarray(5, 15));
    assert.equal(b.canReadSync, false);
    await assert.rejects(b.read(b.size - 5, 10), (e) => e.code === 'io' && /10 bytes at offset \d+/.test(e.message));
    assert.equal(new RangeStore('http://x/m.gguf').canReadSync, false);
});

test('bad store options are refused before loading', { skip: hasWasm ? false : 'SKIP: no wasm' }, async () => {
    await expectChordError(loadModel(MODEL, { store: 'floppy' }), 'invalid_arg', /store must be one of/);
    await expectChordError(loadModel(MODEL, { store: 'blob', wasmBase }), 'invalid_arg', /File or Blob/);
    await expectChordError(loadModel(new Uint8Array(8), { store: 'range', wasmBase }), 'invalid_arg', /http/);
    await expectChordError(loadModel('http://127.0.0.1:1/m.gguf', { store: 'opfs', wasmBase }), 'unsupported', /Origin Private File System/);
    await expectChordError(loadModel(MODEL, { store: 'regions', regionBytes: REGION_MAX + 1 }), 'invalid_arg', /regionBytes/);
    await expectChordError(loadModel({ regions: [] }, { wasmBase }), 'invalid_arg', /non-empty/);
    await expectChordError(loadModel({ regions: [new ArrayBuffer(0)] }, { wasmBase }), 'invalid_arg', /region 0 has 0 bytes/);
});
