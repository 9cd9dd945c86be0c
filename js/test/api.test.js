// api.test.js — the JS package through its public API only (loadModel, generate, tokenize,
// detokenize, info, dispose, ChordError), in Node with the real wasm builds and stories260K.
// Run: node --test js/test/   (tests/t_js.sh runs it, also with --experimental-wasm-memory64).

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { loadModel, ChordError } from '../src/index.js';
import { serve } from '../../tools/serve.mjs';
import { MODEL, SKIP_MODEL, hasWasm, wasmBase, STORY, memory64, NATIVE_CLI, hugeModelFile, hugeModelHeader, makeGguf, repo, expectChordError } from './helpers.js';

const skip = SKIP_MODEL || (hasWasm ? false : `SKIP: wasm builds not found (make wasm)`);
const bytes = hasWasm && !SKIP_MODEL ? fs.readFileSync(MODEL) : null;
const GREEDY = { temperature: 0, maxTokens: 48 };

async function collect(model, prompt, opts) {
    let text = '';
    const tokens = [];
    for await (const p of model.generate(prompt, opts)) { text += p.text; if (p.token >= 0) tokens.push(p.token); }
    return { text, tokens };
}


// Greedy tokens of a wasm32 single-thread load from a path, compared against every other way.
let reference = null;
async function ref() {
    if (!reference) {
        const model = await loadModel(MODEL, { wasmBase, threads: 1 });
        try { reference = await collect(model, '', GREEDY); } finally { await model.dispose(); }
    }
    return reference;
}

test('load from a file path, greedy story, info', { skip }, async () => {
    const model = await loadModel(MODEL, { wasmBase, threads: 1 });
    try {
        const i = model.info;
        assert.equal(i.architecture, 'llama');
        assert.equal(i.sizes.nVocab, 512);
        assert.equal(i.sizes.nLayer, 5);
        assert.equal(i.sizes.fileBytes, bytes.length);
        assert.equal(i.build, 'wasm32');
        assert.equal(i.threads, 1);
        assert.ok(i.sizes.memoryBytes > bytes.length);
        assert.equal(i.metadata['general.architecture'], 'llama');
        const r = await collect(model, '', GREEDY);
        assert.ok(r.text.trimStart().startsWith(STORY.slice(0, 50)), `greedy text: ${JSON.stringify(r.text)}`);
        assert.equal(r.tokens.length, GREEDY.maxTokens);
        const g = model.lastGeneration;
        assert.equal(g.status, 'ok');
        assert.deepEqual(g.tokens, r.tokens);
        assert.deepEqual(g.promptTokens, [i.bos]);
        assert.ok(g.stats.decode_tok_s > 0 && g.stats.n_decode >= r.tokens.length - 1);
        reference = r;
    } finally {
        await model.dispose();
    }
});

test('same tokens as the native CLI', { skip: skip || (!fs.existsSync(NATIVE_CLI) && `SKIP: ${NATIVE_CLI} not built`) }, async () => {
    const out = execFileSync(NATIVE_CLI, ['run', '-m', MODEL, '-p', '', '-n', String(GREEDY.maxTokens), '--temp', '0', '-t', '1', '--json'], { encoding: 'utf8' });
    const native = JSON.parse(out);
    assert.deepEqual((await ref()).tokens, native.tokens);
});

// Node 20's V8 has relaxed SIMD behind a flag that the package sets at run time (core.js,
// enableRelaxedSimd); Node >= 22 has it on. relaxed: false keeps the plain simd128 build.
test('relaxed SIMD by default in Node (20: V8 flag set at run time), relaxed: false runs simd128, same tokens', { skip }, async () => {
    const plain = await loadModel(MODEL, { wasmBase, threads: 1, relaxed: false });
    let p;
    try {
        assert.equal(plain.info.simd, 'simd128');
        assert.equal(plain.info.wasmFile, 'chord-wasm32.wasm');
        p = await collect(plain, '', GREEDY);
    } finally { await plain.dispose(); }
    const relaxed = await loadModel(MODEL, { wasmBase, threads: 1 });
    try {
        assert.equal(relaxed.info.simd, 'relaxed');
        assert.equal(relaxed.info.wasmFile, 'chord-wasm32-relaxed.wasm');
        const r = await collect(relaxed, '', GREEDY);
        assert.deepEqual(r.tokens, p.tokens);
        assert.deepEqual(r.tokens, (await ref()).tokens);
    } finally { await relaxed.dispose(); }
});

test('load from every source kind, with progress', { skip }, async () => {
    const srv = await serve({ port: 0 });
    try {
        const sources = {
            'http URL': `${srv.url}shared/models/stories260K.gguf`,
            'file URL': pathToFileURL(MODEL).href,
            'URL object': new URL(`${srv.url}shared/models/stories260K.gguf`),
            Blob: new Blob([bytes]),
            File: new File([bytes], 'stories260K.gguf'),
            ArrayBuffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
            Uint8Array: new Uint8Array(bytes),
            'DataView': new DataView(bytes.buffer, bytes.byteOffset, bytes.length),
        };
        if (!fs.existsSync(MODEL)) delete sources['http URL'];
        for (const [kind, src] of Object.entries(sources)) {
            const events = [];
            const model = await loadModel(src, { wasmBase, threads: 1, onProgress: (p) => events.push(p) });
            try {
                assert.ok(events.length >= 2, `${kind}: progress events`);
                for (let k = 1; k < events.length; k++) assert.ok(events[k].loaded >= events[k - 1].loaded, `${kind}: monotonic`);
                const last = events.at(-1);
                assert.equal(last.loaded, bytes.length, `${kind}: loaded`);
                assert.equal(last.total, bytes.length, `${kind}: total`);
                const r = await collect(model, '', GREEDY);
                assert.deepEqual(r.tokens, (await ref()).tokens, `${kind}: tokens`);
            } finally {
                await model.dispose();
            }
        }
        // The caller's buffer is not detached by loading.
        assert.equal(sources.Uint8Array.byteLength, bytes.length);
    } finally {
        await srv.close();
    }
});

// Issue 11: a streamed load reads through a few reused staging buffers (model.info.load), so
// what it needs besides the wasm memory does not grow with the file: at most LOAD_WINDOW (4)
// buffers and chunks in flight for 18 chunks as for 72, and no chunk made by the stream itself
// (BYOB reads in Node; unpooledBytes counts bytes that were).
test('a streamed load reuses at most 4 staging buffers, however many chunks', { skip }, async () => {
    const srv = await serve({ port: 0 });
    try {
        const sources = {
            path: () => MODEL,
            'http URL': () => `${srv.url}shared/models/stories260K.gguf`,
            Blob: () => new Blob([bytes]),
            Uint8Array: () => new Uint8Array(bytes),
        };
        for (const [kind, src] of Object.entries(sources)) {
            const seen = [];
            for (const chunk of [64 << 10, 16 << 10]) {
                const model = await loadModel(src(), { wasmBase, threads: 1, loadChunkBytes: chunk });
                try {
                    const l = model.info.load;
                    assert.ok(l, `${kind}: info.load`);
                    assert.equal(l.chunkBytes, chunk);
                    assert.equal(l.chunks, Math.ceil(bytes.length / chunk), `${kind}: chunks of ${chunk}`);
                    assert.ok(l.stagingBuffers >= 1 && l.stagingBuffers <= 4, `${kind}: ${l.stagingBuffers} staging buffers for ${l.chunks} chunks`);
                    assert.equal(l.stagingBytes, l.stagingBuffers * chunk);
                    assert.ok(l.maxInFlightBytes > 0 && l.maxInFlightBytes <= 4 * chunk, `${kind}: ${l.maxInFlightBytes} bytes in flight`);
                    assert.equal(l.byob, true, `${kind}: read into the staging buffers`);
                    assert.equal(l.unpooledBytes, 0, `${kind}: bytes that came in buffers of their own`);
                    const r = await collect(model, '', GREEDY);
                    assert.deepEqual(r.tokens, (await ref()).tokens, `${kind}: tokens`);
                    seen.push(l.stagingBuffers);
                } finally {
                    await model.dispose();
                }
            }
            // (how many of the 4 get made depends on how fast the worker gives them back)
            assert.ok(Math.max(...seen) <= 4, `${kind}: staging buffers ${seen} for 18 and 72 chunks`);
        }
    } finally {
        await srv.close();
    }
});

// Issue 11: a File/Blob load reads slices of the file, 3 at a time, each straight into a staging
// buffer (BYOB): in Chromium one read at a time ran at 200–300 MB/s and two to four at 570–1160
// MB/s. A Blob whose slices answer after a delay and count how many are being read at once:
// the load keeps 3 in flight, starts them in file order, and gives the native tokens. The old
// loader read one stream of the whole Blob (no slice read at all).
test('a Blob load keeps 3 slice reads in flight, in file order', { skip }, async () => {
    const probe = { active: 0, maxActive: 0, starts: [] };
    class SlowBlob extends Blob {
        slice(a, b) {
            const s = super.slice(a, b);
            const want = s.size;
            s.stream = () => {
                const rd = Blob.prototype.stream.call(s).getReader();
                let sent = 0;
                probe.starts.push(a);
                probe.active++;
                probe.maxActive = Math.max(probe.maxActive, probe.active);
                return new ReadableStream({
                    type: 'bytes',
                    async pull(c) {
                        if (sent === 0) await new Promise((r) => setTimeout(r, 15));
                        const got = await rd.read();
                        if (got.done) { c.close(); c.byobRequest?.respond(0); return; }
                        sent += got.value.byteLength;
                        if (sent >= want) probe.active--;
                        c.enqueue(got.value);
                    },
                });
            };
            return s;
        }
    }
    const chunk = 64 << 10;
    const model = await loadModel(new SlowBlob([bytes]), { wasmBase, threads: 1, loadChunkBytes: chunk });
    try {
        const l = model.info.load;
        assert.equal(l.readsInFlight, 3, JSON.stringify(l));
        assert.equal(probe.maxActive, 3, `slice reads at once: ${probe.maxActive}`);
        const want = Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => i * chunk);
        assert.deepEqual(probe.starts, want, 'each chunk read once, in file order');
        assert.equal(l.chunks, want.length);
        assert.equal(l.byob, true);
        assert.equal(l.unpooledBytes, 0);
        assert.ok(l.stagingBuffers <= 4, `${l.stagingBuffers} staging buffers`);
        for (const k of ['headerMs', 'engineMs', 'streamMs', 'readMs', 'copyMs', 'finishMs', 'totalMs'])
            assert.ok(Number.isFinite(l.phases[k]) && l.phases[k] >= 0, `phases.${k}: ${JSON.stringify(l.phases)}`);
        assert.deepEqual((await collect(model, '', GREEDY)).tokens, (await ref()).tokens);
    } finally {
        await model.dispose();
    }
});

// A body that stops early (the connection dies mid-file) and a file shorter than its size fail
// the load with io, through the staging buffers; the next load works.
test('a stream that ends early is io; the next load works', { skip }, async () => {
    const server = http.createServer((req, res) => {
        res.writeHead(200, { 'Content-Length': bytes.length, 'Content-Type': 'application/octet-stream' });
        res.write(bytes.subarray(0, 600000), () => res.destroy());
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
        const url = `http://127.0.0.1:${server.address().port}/m.gguf`;
        await expectChordError(loadModel(url, { wasmBase, threads: 1, loadChunkBytes: 64 << 10 }), 'io');
        const short = bytes.subarray(0, 700000);
        const blob = new Blob([short]);
        Object.defineProperty(blob, 'size', { value: bytes.length });
        await expectChordError(loadModel(blob, { wasmBase, threads: 1, loadChunkBytes: 64 << 10 }), 'io', /ended after 700000 of \d+ bytes/);
        const model = await loadModel(MODEL, { wasmBase, threads: 1, loadChunkBytes: 64 << 10 });
        try { assert.deepEqual((await collect(model, '', GREEDY)).tokens, (await ref()).tokens); } finally { await model.dispose(); }
    } finally {
        server.closeAllConnections?.();
        await new Promise((r) => server.close(r));
    }
});

test('tokenize and detokenize', { skip }, async () => {
    const model = await loadModel(bytes, { wasmBase, threads: 1 });
    try {
        const ids = await model.tokenize('Once upon a time');
        assert.ok(ids instanceof Int32Array);
        assert.equal(ids[0], model.info.bos);
        const noBos = await model.tokenize('Once upon a time', { addSpecial: false });
        assert.deepEqual(Array.from(noBos), Array.from(ids.subarray(1)));
        const text = await model.detokenize(noBos);
        assert.equal(text.trim(), 'Once upon a time');
        // A prompt given as ids generates the same as the text.
        const a = await collect(model, 'Once upon a time', GREEDY);
        const b = await collect(model, ids, GREEDY);
        assert.deepEqual(a.tokens, b.tokens);
        await expectChordError(model.tokenize(42), 'invalid_arg');
    } finally {
        await model.dispose();
    }
});

test('abort stops within one token and leaves the model usable', { skip }, async () => {
    const model = await loadModel(bytes, { wasmBase, threads: 1 });
    try {
        const ctrl = new AbortController();
        let got = 0;
        await expectChordError((async () => {
            for await (const _ of model.generate('', { temperature: 0, maxTokens: 400, ignoreEos: true, signal: ctrl.signal })) {
                if (++got === 5) {
                    // A slow consumer: the engine must wait for it rather than run ahead.
                    await new Promise((r) => setTimeout(r, 100));
                    ctrl.abort();
                }
            }
        })(), 'cancelled');
        assert.equal(got, 5);
        const g = model.lastGeneration;
        assert.equal(g.status, 'cancelled');
        // Produced after the abort: at most the engine's small look-ahead plus the one in progress.
        assert.ok(g.tokens.length <= got + 3, `engine made ${g.tokens.length} tokens, consumer took ${got}`);

        // Usable afterwards, and deterministic.
        const r = await collect(model, '', GREEDY);
        assert.deepEqual(r.tokens, (await ref()).tokens);

        // Already-aborted signal: nothing runs.
        await expectChordError(collect(model, '', { ...GREEDY, signal: AbortSignal.abort() }), 'cancelled');

        // Breaking out of the loop stops the engine too; the next run is complete.
        let n = 0;
        for await (const _ of model.generate('', { temperature: 0, maxTokens: 400, ignoreEos: true })) if (++n === 3) break;
        assert.ok(model.lastGeneration.tokens.length <= 3 + 3);
        assert.deepEqual((await collect(model, '', GREEDY)).tokens, (await ref()).tokens);
    } finally {
        await model.dispose();
    }
});

test('aborting a load stops it; the next load works', { skip }, async () => {
    const ctrl = new AbortController();
    let calls = 0;
    const big = new Uint8Array(bytes.length * 20); // many chunks: the abort lands mid-stream
    big.set(bytes);
    await expectChordError(loadModel(big, {
        wasmBase, threads: 1, signal: ctrl.signal,
        onProgress: ({ loaded }) => { if (++calls === 3) ctrl.abort(); assert.ok(loaded < big.length); },
    }), 'cancelled');
    await expectChordError(loadModel(bytes, { wasmBase, signal: AbortSignal.abort() }), 'cancelled');
    const model = await loadModel(bytes, { wasmBase, threads: 1 });
    try {
        assert.deepEqual((await collect(model, '', GREEDY)).tokens, (await ref()).tokens);
    } finally {
        await model.dispose();
    }
});

// A generation holds the model until it stops; a second one started meanwhile fails 'busy' at
// once (waiting could never end when one consumer waits for the other: js/README.md).
test('concurrent generate calls: the second fails busy, one after the other both run', { skip }, async () => {
    const model = await loadModel(bytes, { wasmBase, threads: 1 });
    try {
        const [a, b] = await Promise.allSettled([collect(model, '', GREEDY), collect(model, '', GREEDY)]);
        assert.equal(a.status, 'fulfilled');
        assert.deepEqual(a.value.tokens, (await ref()).tokens);
        assert.equal(b.status, 'rejected');
        assert.equal(b.reason.code, 'busy');
        assert.deepEqual((await collect(model, '', GREEDY)).tokens, (await ref()).tokens);
    } finally {
        await model.dispose();
    }
});

test('dispose and reload', { skip }, async () => {
    for (let k = 0; k < 3; k++) {
        const model = await loadModel(bytes, { wasmBase, threads: 1 });
        assert.deepEqual((await collect(model, '', GREEDY)).tokens, (await ref()).tokens);
        await model.dispose();
        await model.dispose(); // twice is fine
        await expectChordError(model.tokenize('x'), 'disposed');
        await expectChordError(collect(model, '', GREEDY), 'disposed');
    }
});

test('two threads give the same tokens', { skip }, async () => {
    const model = await loadModel(bytes, { wasmBase, threads: 2 });
    try {
        assert.equal(model.info.threads, 2);
        assert.deepEqual((await collect(model, '', GREEDY)).tokens, (await ref()).tokens);
        const r = await collect(model, 'Lily and Ben', { temperature: 0.8, seed: 7, maxTokens: 40 });
        const one = await loadModel(bytes, { wasmBase, threads: 1 });
        try {
            assert.deepEqual((await collect(one, 'Lily and Ben', { temperature: 0.8, seed: 7, maxTokens: 40 })).tokens, r.tokens);
        } finally {
            await one.dispose();
        }
    } finally {
        await model.dispose();
    }
});

test('wasm64 gives the same tokens', { skip: skip || (!memory64 && 'SKIP: no Memory64 in this node (run with --experimental-wasm-memory64)') }, async () => {
    for (const threads of [1, 2]) {
        const model = await loadModel(MODEL, { wasmBase, threads, build: 'wasm64' });
        try {
            assert.equal(model.info.build, 'wasm64');
            assert.deepEqual((await collect(model, '', GREEDY)).tokens, (await ref()).tokens, `wasm64 ${threads} thread(s)`);
        } finally {
            await model.dispose();
        }
    }
});

test('weightsAbove places the weights past an address, same tokens; past the address space is nomem', { skip }, async () => {
    const above = 512 * 2 ** 20;
    const model = await loadModel(MODEL, { wasmBase, build: 'wasm32', weightsAbove: above });
    try {
        assert.ok(model.info.sizes.modelAddress >= above, `weights at ${model.info.sizes.modelAddress}`);
        assert.deepEqual((await collect(model, '', GREEDY)).tokens, (await ref()).tokens);
    } finally {
        await model.dispose();
    }
    await expectChordError(loadModel(MODEL, { wasmBase, build: 'wasm32', weightsAbove: 4 * 2 ** 30 }), 'nomem', /wasm32/);
    await expectChordError(loadModel(MODEL, { wasmBase, weightsAbove: -1 }), 'invalid_arg', /weightsAbove/);
});

test('malformed files give ChordError format', { skip: hasWasm ? false : 'SKIP: wasm builds not found' }, async () => {
    await expectChordError(loadModel(new TextEncoder().encode('this is not a model at all, just text'), { wasmBase }), 'format', /GGUF/);
    await expectChordError(loadModel(new Uint8Array(0), { wasmBase }), 'format');
    if (bytes) {
        // Header cut short.
        await expectChordError(loadModel(bytes.subarray(0, 3000), { wasmBase }), 'format');
        // Header intact, tensor data cut: found by the engine.
        await expectChordError(loadModel(bytes.subarray(0, Math.floor(bytes.length * 0.6)), { wasmBase }), 'format');
        // A corrupted tensor count.
        const bad = new Uint8Array(bytes);
        new DataView(bad.buffer).setBigUint64(8, 1n << 40n, true);
        await expectChordError(loadModel(bad, { wasmBase }), 'format');
    }
    // A header whose tensor table points past the data.
    const g = makeGguf({ meta: { 'general.architecture': 'llama' }, tensors: [{ name: 'x', dims: [1 << 20, 1 << 10], type: 0 }], dataBytes: 32 });
    await expectChordError(loadModel(g, { wasmBase }), 'format');
});

test('a too-big model fails the budget check before loading', { skip: hasWasm ? false : 'SKIP: wasm builds not found' }, async () => {
    // A sparse 26 GB file: its tensor data is a hole, so reaching 'nomem' (not 'format' or 'io')
    // shows the engine's plan ran on the header before any tensor data was read.
    // residency 'resident': with 'auto' a model too big to be resident is paged instead (this
    // header-only model then fails as 'format', its token table being a stub: js/test/paged.test.js).
    const huge = hugeModelFile();
    const resident = { wasmBase, residency: 'resident' };
    try {
        await expectChordError(loadModel(huge, resident), 'nomem', /needs about \d+\.\d+ GiB/);
        await expectChordError(loadModel(huge, { ...resident, build: 'wasm32' }), 'nomem', /wasm32/);
        await expectChordError(loadModel(huge, { ...resident, build: 'wasm32', nCtx: 1024 }), 'nomem', /wasm32/);
        if (!memory64) await expectChordError(loadModel(huge, { wasmBase, build: 'wasm64' }), 'unsupported', /Memory64/);
    } finally {
        fs.rmSync(huge, { force: true });
    }
});

test('bad options give ChordError invalid_arg', async () => {
    await expectChordError(loadModel(MODEL, { build: 'wasm16' }), 'invalid_arg', /build/);
    await expectChordError(loadModel(MODEL, { threads: 0 }), 'invalid_arg', /threads/);
    await expectChordError(loadModel(12345), 'invalid_arg', /source/);
    await expectChordError(loadModel(MODEL, { loadChunkBytes: 100 }), 'invalid_arg', /loadChunkBytes/);
    await expectChordError(loadModel(MODEL, { loadChunkBytes: 2 ** 40 }), 'invalid_arg', /loadChunkBytes/);
    await expectChordError(loadModel('/nonexistent/model.gguf', { wasmBase }), 'io', /nonexistent/);
});
