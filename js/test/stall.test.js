// stall.test.js — the no-progress watchdog (sources.js readWithin / fetchWithin, issue 11): a
// File/Blob slice, a URL body or a Range answer that brings no byte for stallTimeoutMs ends the
// load (or the generate of a paged model) with ChordError('io') naming the source and the byte,
// never a silent hang. A File slice that stalls once is read again and the load completes with
// the native tokens; a paged model whose Range read stalled mid-generation generates again.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { loadModel } from '../src/index.js';
import { readBlobRange } from '../src/sources.js';
import { MODEL, SKIP_MODEL, hasWasm, wasmBase, expectChordError, nativeTokens, greedyTokens } from './helpers.js';

const skip = SKIP_MODEL || (hasWasm ? false : 'SKIP: wasm builds not found (make wasm)');
const N = 16;
const bytes = SKIP_MODEL ? null : new Uint8Array(fs.readFileSync(MODEL));

// A byte stream that never delivers (its pull never settles) until cancelled.
const never = () => new ReadableStream({ type: 'bytes', pull: () => new Promise(() => {}) });

// A Blob whose slices starting at or after `from` stall `times` times each (Infinity: always)
// before they read normally. `opened` counts the slice streams made.
class StallingBlob extends Blob {
    constructor(parts, { from, times, name }) {
        super(parts);
        Object.assign(this, { from, times, name, opened: 0, stalls: new Map() });
    }
    slice(a, b) {
        const whole = this, part = Blob.prototype.slice.call(this, a, b);
        return {
            stream() {
                whole.opened++;
                const k = whole.stalls.get(a) ?? 0;
                if (a >= whole.from && k < whole.times) { whole.stalls.set(a, k + 1); return never(); }
                return part.stream();
            },
        };
    }
}

test('readBlobRange: a slice that stalls once is read again; one that always stalls is io naming the byte', async () => {
    const data = new Uint8Array(100000).map((_, i) => i * 7);
    const once = new StallingBlob([data], { from: 0, times: 1, name: 'x.gguf' });
    const got = await readBlobRange(once, 1000, 5000, new ArrayBuffer(8192), undefined, { stallMs: 50, name: 'x.gguf' });
    assert.equal(got.n, 5000);
    assert.deepEqual(new Uint8Array(got.buffer, 0, 5000), data.subarray(1000, 6000));
    assert.equal(once.opened, 2, 'the stalled slice was opened again, once');
    const always = new StallingBlob([data], { from: 0, times: Infinity, name: 'x.gguf' });
    await assert.rejects(readBlobRange(always, 1000, 5000, new ArrayBuffer(8192), undefined, { stallMs: 50, name: 'x.gguf' }),
        (e) => e.code === 'io' && e.stalled && /no bytes for 0\.05 s reading x\.gguf at byte 1000/.test(e.message));
    assert.equal(always.opened, 2, 'two tries, then the error');
});

test('a File load whose slices stall once completes with the native tokens; always stalling is io', { skip }, async () => {
    const opts = { wasmBase, threads: 1, loadChunkBytes: 65536, stallTimeoutMs: 100 };
    const once = new StallingBlob([bytes], { from: 65536, times: 1, name: 'stories260K.gguf' });
    const model = await loadModel(once, opts);
    try {
        assert.ok(once.stalls.size >= 2, `stalled slices: ${once.stalls.size}`);
        assert.equal(model.info.load.stallRetries, once.stalls.size, 'info.load counts the reads made again');
        const t = await greedyTokens(model, N);
        if (nativeTokens(N)) assert.deepEqual(t, nativeTokens(N));
    } finally { await model.dispose(); }
    const always = new StallingBlob([bytes], { from: 65536, times: Infinity, name: 'stories260K.gguf' });
    await expectChordError(loadModel(always, opts), 'io', /no bytes for 0\.1 s reading stories260K\.gguf at byte \d+/);
});

// An HTTP server: mode 'silent' never answers; 'half' sends the headers and half the body, then
// nothing; 'range-armed' answers Range requests normally until armed, then leaves the first
// request after arming unanswered (later ones are answered).
async function stallServer(mode) {
    const state = { armed: false, stalled: 0 };
    const server = http.createServer((req, res) => {
        if (mode === 'silent') return;
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        if (mode === 'half') {
            res.writeHead(200, { 'Content-Length': bytes.length });
            res.write(bytes.subarray(0, bytes.length >> 1));
            return;
        }
        if (!m) { res.writeHead(200, { 'Content-Length': bytes.length }); res.end(bytes); return; }
        if (state.armed && state.stalled === 0) { state.stalled++; return; }
        const a = Number(m[1]), b = Math.min(Number(m[2]), bytes.length - 1);
        res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${bytes.length}`, 'Content-Length': b + 1 - a });
        res.end(bytes.subarray(a, b + 1));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return {
        state,
        url: `http://127.0.0.1:${server.address().port}/m.gguf`,
        close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
    };
}

test('a URL that never answers, or stops mid-body, fails the load with io naming it', { skip }, async () => {
    for (const [mode, re] of [['silent', /no bytes for 0\.2 s of an answer from http:\/\/127\.0\.0\.1:\d+\/m\.gguf/],
        ['half', /no bytes for 0\.2 s from http:\/\/127\.0\.0\.1:\d+\/m\.gguf after \d+ bytes/]]) {
        const s = await stallServer(mode);
        try {
            await expectChordError(loadModel(s.url, { wasmBase, threads: 1, stallTimeoutMs: 200 }), 'io', re);
        } finally { await s.close(); }
    }
});

test('a paged Range read that stalls mid-generation is io naming the offset; the next generate works', { skip }, async () => {
    const s = await stallServer('range-armed');
    try {
        const model = await loadModel(s.url, { wasmBase, threads: 1, store: 'range', residency: 'paged', cacheLayers: 1,
            prefetch: 0, stallTimeoutMs: 300 });
        try {
            s.state.armed = true;
            await expectChordError(greedyTokens(model, N), 'io',
                /range store m\.gguf: reading \d+ bytes at offset \d+ failed: no bytes for 0\.3 s of an answer from/);
            assert.equal(s.state.stalled, 1);
            const t = await greedyTokens(model, N);
            if (nativeTokens(N)) assert.deepEqual(t, nativeTokens(N));
        } finally { await model.dispose(); }
    } finally { await s.close(); }
});

test('stallTimeoutMs must be a non-negative integer', { skip: hasWasm ? false : 'SKIP: no wasm' }, async () => {
    for (const v of [-1, 1.5, 'x'])
        await expectChordError(loadModel(MODEL, { wasmBase, stallTimeoutMs: v }), 'invalid_arg', /stallTimeoutMs must be/);
});
