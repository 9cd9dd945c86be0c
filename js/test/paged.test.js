// paged.test.js — paged weights through host stores in Node (issue 11): residency 'paged' with 2
// layer slots from a path (positioned reads), ArrayBuffer regions and HTTP Range (through the
// store bridge) give the native token ids with 1 and 2 threads, with the asynchronous slot
// prefetch (a store worker fills the next layer's slot while one computes: every acquire after
// the first is a prefetch hit) and without it (prefetch 0); pin+stream and LRU; cacheStats
// counts add up; preload fills every slot and clearCache drops the ring; a store read that fails
// mid-generation ends that generate with ChordError('io') naming the offset and the model stays
// usable; a budget that cannot hold two slots is 'nomem' naming the numbers; a Node Blob (no
// synchronous read) is refused for paging; liveStats moves during a long prefill.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { loadModel } from '../src/index.js';
import { serve } from '../../tools/serve.mjs';
import { MODEL, SKIP_MODEL, hasWasm, wasmBase, expectChordError, nativeTokens, greedyTokens, memory64 } from './helpers.js';

const skip = SKIP_MODEL || (hasWasm ? false : 'SKIP: wasm builds not found (make wasm)');
const N = 24;
const bytes = skip ? null : new Uint8Array(fs.readFileSync(MODEL));
const ref = () => nativeTokens(N);
const tokensOf = (model, n = N) => greedyTokens(model, n);

async function pagedRun(source, opts, kind) {
    const model = await loadModel(source, { wasmBase, residency: 'paged', cacheLayers: 2, ...opts });
    try {
        assert.equal(model.info.path.residency, 'paged');
        assert.equal(model.info.store.kind, kind);
        const t = await tokensOf(model);
        if (ref()) assert.deepEqual(t, ref(), `${kind} ${JSON.stringify(opts)}: token ids differ from native`);
        else assert.equal(t.length, N);
        const c = await model.cacheStats();
        assert.equal(c.slots, 2);
        assert.equal(c.policy, opts.cachePolicy === 'lru' ? 'paged-lru' : 'paged-pin');
        assert.ok(c.misses > 0 && c.bytes_read > 0, JSON.stringify(c));
        // N tokens from an empty prompt (BOS): N + 1 forward passes over every layer
        const acquires = (N + 1) * c.n_layer;
        assert.equal(c.hits + c.misses + c.prefetch_hits, acquires, JSON.stringify(c));
        if (opts.prefetch === 0) {
            assert.equal(model.info.path.prefetch, 'on-demand');
            assert.equal(c.prefetch_hits, 0);
        } else {
            assert.equal(model.info.path.prefetch, 'async', JSON.stringify(model.info.path));
            // only the very first layer is a demand read; the store worker read the others ahead
            assert.equal(c.misses, 1, JSON.stringify(c));
            assert.equal(c.prefetch_hits, acquires - 1, JSON.stringify(c));
            // one async read per prefetched layer, + the one read ahead at the end (done or in flight)
            assert.ok(c.async_reads === c.prefetch_hits || c.async_reads === c.prefetch_hits + 1, JSON.stringify(c));
            assert.equal(c.async_failed, 0);
        }
        if (kind === 'range') {
            // Issue 11: every piece went through the store's one staging buffer, none came in a
            // buffer of its own (so memory does not grow with the number of reads)
            assert.ok(c.store_pieces >= c.misses + c.prefetch_hits && c.store_pieces > 2 * c.n_layer, `${c.store_pieces} pieces read: ${JSON.stringify(c)}`);
            assert.equal(c.store_staging_buffers, 1, JSON.stringify(c));
            assert.equal(c.store_unpooled_bytes, 0, JSON.stringify(c));
        }
        return c;
    } finally {
        await model.dispose();
    }
}

test('paged, 2 slots, from a path / regions / HTTP Range; 1 and 2 threads; pin and LRU', { skip }, async () => {
    const srv = await serve({ port: 0 });
    try {
        for (const threads of [1, 2]) {
            await pagedRun(MODEL, { threads }, 'path');
            await pagedRun(MODEL, { threads, store: 'regions', regionBytes: Math.ceil(bytes.length / 3) }, 'regions');
            await pagedRun(`${srv.url}models/stories260K.gguf`, { threads }, 'range');
        }
        // without the prefetch: layers read when acquired, on the engine thread
        await pagedRun(MODEL, { threads: 2, prefetch: 0 }, 'path');
        await pagedRun(`${srv.url}models/stories260K.gguf`, { threads: 1, prefetch: 0 }, 'range');
        const lru = await pagedRun(MODEL, { cachePolicy: 'lru' }, 'path');
        assert.equal(lru.hits, 0, 'LRU on a cyclic scan with fewer slots than layers hits nothing');
    } finally { await srv.close(); }
});

// Issue 11: a layer larger than a piece (storePieceBytes 16 KiB: ~12 pieces per stories260K
// layer) is read from Range with the next piece's request in flight while the previous piece is
// copied into the slot: 2 reads at once, 2 staging buffers, nothing unpooled, native tokens, and
// the same through a mid-layer failure (the engine's demand read reports io; the next generate
// works). Before, one piece at a time through one staging buffer. With prefetch 0 the engine's
// own (synchronous) reads go through the bridge's helper, which reads a layer's next pieces
// ahead the same way.
for (const prefetch of [1, 0])
test(`paged from Range in pieces smaller than a layer: 2 reads in flight, 2 staging buffers (prefetch ${prefetch})`, { skip }, async () => {
    let failAfter = Infinity, served = 0;
    const srv = http.createServer((req, res) => {
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        if (!m) { res.writeHead(200, { 'Content-Length': bytes.length }); res.end(bytes); return; }
        if (++served > failAfter) { res.writeHead(503); res.end(); return; }
        const a = Number(m[1]), b = Math.min(Number(m[2]), bytes.length - 1);
        res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${bytes.length}`, 'Content-Length': b + 1 - a });
        res.end(bytes.subarray(a, b + 1));
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${srv.address().port}/m.gguf`;
    const model = await loadModel(url, { wasmBase, residency: 'paged', cacheLayers: 2, threads: 1, storePieceBytes: 16 << 10, prefetch });
    try {
        assert.equal(model.info.path.prefetch, prefetch ? 'async' : 'on-demand');
        const t = await tokensOf(model, 8);
        if (ref()) assert.deepEqual(t, ref().slice(0, 8));
        const c = await model.cacheStats();
        if (prefetch) assert.equal(c.misses, 1, JSON.stringify(c));
        assert.equal(c.store_staging_buffers, 2, JSON.stringify(c));
        assert.equal(c.store_reads_in_flight_max, 2, JSON.stringify(c));
        assert.equal(c.store_unpooled_bytes, 0, JSON.stringify(c));
        assert.ok(c.store_pieces > 8 * (c.misses + c.prefetch_hits), `${c.store_pieces} pieces: ${JSON.stringify(c)}`);
        // a piece request that fails in the middle of the next layers
        served = 0;
        failAfter = 5;
        await expectChordError(tokensOf(model, 8), 'io', /HTTP 503.*reading layer \d+ failed at offset \d+/);
        failAfter = Infinity;
        const again = await tokensOf(model, 8);
        if (ref()) assert.deepEqual(again, ref().slice(0, 8), 'native tokens once the store works again');
    } finally {
        await model.dispose();
        srv.closeAllConnections?.();
        await new Promise((r) => srv.close(r));
    }
});

// model.liveStats: the counters after each token, while the generation runs (cacheStats() is
// busy then); 2 slots of 5 layers, so every token reads layers and bytes_read grows.
test('liveStats updates token by token during a paged generation', { skip }, async () => {
    const model = await loadModel(MODEL, { wasmBase, residency: 'paged', cacheLayers: 2, threads: 1 });
    try {
        assert.equal(model.liveStats, null);
        const seen = [];
        for await (const p of model.generate('', { temperature: 0, maxTokens: 12 })) {
            if (p.token < 0) continue;
            const l = model.liveStats;
            assert.ok(l && l.cache && l.memoryBytes > 0 && l.heapUsed > 0, JSON.stringify(l));
            await assert.rejects(model.cacheStats(), (e) => e.code === 'busy');
            seen.push(l);
        }
        assert.equal(seen.length, 12);
        assert.equal(seen.at(-1).tokens, 12);
        for (let k = 1; k < seen.length; k++) assert.ok(seen[k].cache.bytes_read >= seen[k - 1].cache.bytes_read);
        assert.ok(new Set(seen.map((l) => l.cache.bytes_read)).size >= 6, 'bytes_read moves during the generation');
        const after = await model.cacheStats();
        assert.ok(after.bytes_read >= seen.at(-1).cache.bytes_read);
    } finally {
        await model.dispose();
    }
});

// Issue 11: a long prompt's prefill moves liveStats too (before, it changed only per token):
// after every layer of every batch, in order, with bytes_read growing as the paged layers are
// read. 4 batches of 8 tokens (nBatch 8) over 5 layers = 20 updates before the first token.
test('liveStats and onLive move layer by layer during a long prefill', { skip }, async () => {
    const model = await loadModel(MODEL, { wasmBase, residency: 'paged', cacheLayers: 2, threads: 1, nBatch: 8 });
    try {
        const ids = Array.from({ length: 32 }, (_, i) => 1 + ((i * 37) % 400));
        const lives = [];
        let tokens = 0;
        for await (const p of model.generate(ids, { temperature: 0, maxTokens: 1, onLive: (l) => lives.push(l) }))
            if (p.token >= 0) tokens++;
        assert.equal(tokens, 1);
        const nLayer = (await model.cacheStats()).n_layer;
        const before = lives.findIndex((l) => !l.prefill);
        const pre = lives.slice(0, before);
        assert.equal(pre.length, 4 * nLayer, `updates before the first token: ${pre.length}`);
        pre.forEach((l, k) => {
            assert.deepEqual(l.prefill, { done: 8 * Math.floor(k / nLayer), batch: 8, total: 32, layer: k % nLayer, nLayer });
            assert.equal(l.tokens, 0);
            assert.ok(l.memoryBytes > 0 && l.heapUsed > 0, JSON.stringify(l));
            if (k) assert.ok(l.cache.bytes_read > pre[k - 1].cache.bytes_read, `layer ${k}: bytes_read moves`);
        });
        assert.equal(lives.length, before + 1, 'then one update per token');
        assert.equal(lives.at(-1).prefill, undefined);
        assert.equal(model.liveStats, lives.at(-1));
    } finally {
        await model.dispose();
    }
});

test('cacheStats, preload and clearCache', { skip }, async () => {
    const model = await loadModel(MODEL, { wasmBase, residency: 'paged', cacheLayers: 64, threads: 1 });
    try {
        const c0 = await model.cacheStats();
        assert.equal(c0.slots, c0.n_layer, 'more slots than layers: one per layer');
        await model.preload();
        const c1 = await model.cacheStats();
        const t = await tokensOf(model, 8);
        if (ref()) assert.deepEqual(t, ref().slice(0, 8));
        const c2 = await model.cacheStats();
        assert.equal(c2.misses, c1.misses, 'after preload every acquire is a hit');
        assert.ok(c2.hits > c1.hits);
        await model.clearCache();
        assert.deepEqual(await tokensOf(model, 8), t, 'same tokens after clearCache');
    } finally {
        await model.dispose();
    }
});

// A Range server that starts failing after `okRequests` data requests (the header read and the
// model-wide tensors succeed; layer reads during generation fail) until `heal()` is called.
async function breakingServer(okRequests) {
    let n = 0, broken = true;
    const server = http.createServer((req, res) => {
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        if (!m) { res.writeHead(200, { 'Content-Length': bytes.length }); res.end(bytes); return; }
        const a = Number(m[1]), b = Math.min(Number(m[2]), bytes.length - 1);
        if (++n > okRequests && broken) { res.writeHead(503); res.end(); return; }
        res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${bytes.length}`, 'Content-Length': b - a + 1 });
        res.end(bytes.subarray(a, b + 1));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${server.address().port}/m.gguf`, heal: () => { broken = false; },
        requests: () => n, close: () => new Promise((r) => server.close(r)) };
}

test('a store read failing mid-generation is io naming the offset; the model stays usable', { skip }, async () => {
    // Count the requests a paged open makes, then break the server right after them.
    const probe = await breakingServer(1e9);
    const m0 = await loadModel(probe.url, { wasmBase, residency: 'paged', cacheLayers: 2, threads: 1 });
    const opened = probe.requests();
    await m0.dispose();
    await probe.close();
    // The first layer of the generate is a demand read (request opened + 1); the next one is the
    // store worker's asynchronous read (opened + 2): it fails, the engine reads the layer itself
    // (opened + 3), which fails too and is reported.
    const s = await breakingServer(opened + 1);
    const model = await loadModel(s.url, { wasmBase, residency: 'paged', cacheLayers: 2, threads: 1 });
    try {
        await expectChordError(tokensOf(model), 'io',
            /range store m\.gguf: reading \d+ bytes at offset \d+ failed: HTTP 503 \(reading layer \d+ failed at offset \d+/);
        // the asynchronous read failed first; the engine then read the layer itself and reported it
        assert.ok((await model.cacheStats()).async_failed >= 1);
        s.heal();
        const t = await tokensOf(model);
        if (ref()) assert.deepEqual(t, ref(), 'the model works again once the store does');
    } finally {
        await model.dispose();
        await s.close();
    }
});

test('a model file truncated mid-generation (path store, async prefetch) is io naming layer and offset; restored, it works', { skip }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paged-trunc-'));
    const file = path.join(dir, 'm.gguf');
    fs.writeFileSync(file, bytes);
    const model = await loadModel(file, { wasmBase, residency: 'paged', cacheLayers: 2, threads: 2 });
    try {
        assert.equal(model.info.path.prefetch, 'async');
        const t = await tokensOf(model);
        if (ref()) assert.deepEqual(t, ref());
        fs.truncateSync(file, bytes.length >> 1);
        await expectChordError(tokensOf(model), 'io',
            /path store m\.gguf: reading \d+ bytes at offset \d+ failed: the file ended early.*reading layer \d+ failed at offset \d+/);
        assert.ok((await model.tokenize('Lily')).length > 0, 'the model is still usable');
        fs.writeFileSync(file, bytes); // the same file (inode) again: the open descriptor reads it
        assert.deepEqual(await tokensOf(model), t, 'native tokens once the file is whole again');
    } finally {
        await model.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test('residency auto pages a streamed load that exceeds memoryBudget', { skip }, async () => {
    const resident = await loadModel(MODEL, { wasmBase, nCtx: 256, threads: 1 });
    const need = resident.info.sizes.estimatedBytes;
    await resident.dispose();
    const model = await loadModel(MODEL, { wasmBase, nCtx: 256, threads: 1, memoryBudget: need - (need >> 4) });
    try {
        assert.equal(model.info.path.residency, 'paged', JSON.stringify(model.info.path));
        assert.match(model.info.path.why, /memoryBudget/);
        assert.equal(model.info.store.kind, 'path');
        const t = await tokensOf(model);
        if (ref()) assert.deepEqual(t, ref());
        const c = await model.cacheStats();
        assert.ok(c.slots >= 2 && c.slots <= c.n_layer, JSON.stringify(c));
    } finally {
        await model.dispose();
    }
});

test('paging refusals: a budget below two slots is nomem naming the numbers; a Node Blob cannot page', { skip }, async () => {
    await expectChordError(loadModel(MODEL, { wasmBase, residency: 'paged', memoryBudget: 1 << 20 }), 'nomem',
        /does not fit a memory budget of 1\.0 MiB even paged: model-wide tensors .* \+ 2 layer slots/);
    await expectChordError(loadModel(new Blob([bytes]), { wasmBase, residency: 'paged' }), 'unsupported', /synchronous reads/);
    await expectChordError(loadModel(MODEL, { wasmBase, residency: 'swapped' }), 'invalid_arg', /residency/);
    await expectChordError(loadModel(MODEL, { wasmBase, cacheLayers: -1 }), 'invalid_arg', /cacheLayers/);
});

// Run by tests/t_js.sh under --experimental-wasm-memory64 (node 20): 64-bit slot and state
// addresses cross the async read import as BigInts.
test('wasm64: paged, 2 slots, async prefetch from a path, 1 and 2 threads', { skip: skip || (!memory64 && 'SKIP: no Memory64 (node 20 needs --experimental-wasm-memory64)') }, async () => {
    for (const threads of [1, 2]) {
        const model = await loadModel(MODEL, { wasmBase, residency: 'paged', cacheLayers: 2, threads, build: 'wasm64' });
        try {
            assert.equal(model.info.build, 'wasm64');
            assert.equal(model.info.path.prefetch, 'async');
            const t = await tokensOf(model);
            if (ref()) assert.deepEqual(t, ref(), `wasm64 ${threads}t`);
            const c = await model.cacheStats();
            assert.equal(c.misses, 1, JSON.stringify(c));
            assert.equal(c.prefetch_hits, (N + 1) * c.n_layer - 1);
        } finally {
            await model.dispose();
        }
    }
});
