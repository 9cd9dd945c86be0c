// stores.mjs — the browser host stores (js/src/stores.js, opfs.js) in headless Chromium, through
// loadModel's `store` option: a File/Blob read with FileReaderSync in the engine worker, a URL
// read with synchronous Range requests, ArrayBuffer regions filled from a URL (>= 3 regions), and
// the OPFS cache — downloaded once, then loaded with no request to the server; an interrupted
// download fails with io, and the next load resumes it with a Range request; cacheStatus and
// cacheDelete; paged weights (2 slots) from a Blob, Range, OPFS and regions with 1 and 2 threads,
// each with the asynchronous slot prefetch (a store worker fills the next layer's slot while one
// computes: 1 demand read, every other acquire a prefetch hit). Every load must give the native
// token ids. Faults: a Range answer of the wrong length is ChordError('io') naming the offset;
// mid-generation (paged), a Range server that starts failing (HTTP 503) or answering short, and
// a picked File changed on disk (NotReadableError), end that generate with io naming the layer
// and offset, and the model stays usable; the OPFS sync handle closed under the store (once: it
// is reopened and the tokens stay native; at every read: io, then healed); an OPFS quota too small for the model (DevTools
// Storage.overrideQuotaForOrigin) is ChordError('nomem') and leaves no partial copy, both when the
// first grant fails (MODEL) and when the quota runs out in the middle of the data (QUOTA_MODEL, a
// few MB); once the quota is lifted, the next load downloads it afresh and gives the native ids.
//
//   node tests/browser/stores.mjs NATIVE.json MODEL.gguf QUOTA_NATIVE.json QUOTA_MODEL.gguf
//   (both models inside the repository)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { launch, repo } from './chromium.mjs';
import { handler } from '../../tools/serve.mjs';

const [refFile, modelArg, quotaRefFile, quotaModelArg] = process.argv.slice(2);
const readRef = (f) => JSON.parse(fs.readFileSync(f, 'utf8').trim().split('\n').pop()).tokens;
const ref = readRef(refFile);
const quotaRef = readRef(quotaRefFile);
const quotaModelUrl = '/' + path.relative(repo, path.resolve(quotaModelArg));
const quotaModelBytes = fs.statSync(quotaModelArg).size;
const model = path.resolve(modelArg);
const modelUrl = '/' + path.relative(repo, model);
const bytes = fs.readFileSync(model);
const buildDir = process.env.BUILD ?? 'build';

// The repository with COOP/COEP, plus: a request log, /flaky/<path> (the same file; the next
// whole-file answer is cut after `cutNext` bytes), /bad/<path> (Range answers past the first
// MiB are 100 bytes short), /breakable/<path> (Range answers are HTTP 503 while `broken` is
// 'fail', and 100 bytes short while it is 'short').
const base = handler([['/', repo]], true, null);
const log = [];
let cutNext = 0, broken = null;
const server = http.createServer((req, res) => {
    log.push({ url: req.url, range: req.headers.range ?? null });
    if (req.url.startsWith('/breakable/') && broken && req.headers.range) {
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range);
        if (broken === 'fail' || !m) { res.writeHead(503, { 'Cross-Origin-Resource-Policy': 'same-origin' }); res.end(); return; }
        const a = Number(m[1]), b = Math.min(Number(m[2]), bytes.length - 1);
        const body = bytes.subarray(a, Math.max(a, b + 1 - 100));
        res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${bytes.length}`, 'Content-Length': body.length,
            'Cross-Origin-Resource-Policy': 'same-origin' });
        res.end(body);
        return;
    }
    if (req.url.startsWith('/breakable/')) req.url = req.url.replace(/^\/breakable/, '');
    if (req.url.startsWith('/flaky/') && cutNext && !req.headers.range) {
        const n = cutNext;
        cutNext = 0;
        res.writeHead(200, { 'Content-Length': bytes.length, 'Cross-Origin-Resource-Policy': 'same-origin',
            ETag: '"flaky-1"', 'Accept-Ranges': 'bytes' });
        res.write(bytes.subarray(0, n), () => setTimeout(() => res.destroy(), 50));
        return;
    }
    if (req.url.startsWith('/bad/')) {
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        if (m && Number(m[2]) >= 1 << 20) {
            const a = Number(m[1]), b = Math.min(Number(m[2]), bytes.length - 1);
            const body = bytes.subarray(a, b + 1 - 100);
            res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${bytes.length}`, 'Content-Length': body.length,
                'Cross-Origin-Resource-Policy': 'same-origin' });
            res.end(body);
            return;
        }
    }
    if (req.url.startsWith('/flaky/') || req.url.startsWith('/bad/')) req.url = req.url.replace(/^\/(flaky|bad)/, '');
    // A stable validator for the flaky file, so that If-Range lets the resume through.
    if (req.headers['if-range'] === '"flaky-1"') delete req.headers['if-range'];
    base(req, res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;
const requestsTo = (p) => log.filter((l) => l.url === p);

const browser = await launch();
let failed = false;
try {
    const page = await browser.page();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/web/`);
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
    const wasmBase = `/${buildDir}/wasm/`;
    // Loads in the page; → { tokens, store, progress } or { error: { code, message } }.
    const run = (source, opts, n = ref.length) => page.evaluate(async ({ source, opts, wasmBase, n }) => {
        const { loadModel } = await import('/js/src/index.js');
        let src = source.url;
        if (source.blob) src = await (await fetch(source.url)).blob();
        let progress = 0;
        try {
            const m = await loadModel(src, { wasmBase, ...opts, onProgress: () => { progress++; } });
            const tokens = [];
            for await (const p of m.generate('', { temperature: 0, maxTokens: n })) if (p.token >= 0) tokens.push(p.token);
            const r = { tokens, store: m.info.store, threads: m.info.threads, progress, path: m.info.path,
                cache: m.info.path.residency === 'paged' ? await m.cacheStats() : null };
            await m.dispose();
            return r;
        } catch (e) { return { error: { code: e.code, message: e.message } }; }
    }, { source, opts, wasmBase, n });
    // Issue 11: a Blob or Range store reads every piece into its one staging buffer (BYOB), so
    // the tab's memory is the slots plus that buffer however many layers are read; before, each
    // read made a fresh 16 MiB ArrayBuffer (Blob.slice().arrayBuffer(), a Range response).
    const pooled = (c, what) => {
        assert.ok(c.store_pieces >= c.misses + c.prefetch_hits && c.store_pieces > 2 * c.n_layer, `${what}: ${JSON.stringify(c)}`);
        assert.equal(c.store_staging_buffers, 1, `${what}: ${JSON.stringify(c)}`);
        assert.equal(c.store_unpooled_bytes, 0, `${what}: ${JSON.stringify(c)}`);
        console.log(`    ${what}: ${c.store_pieces} pieces through ${c.store_staging_buffers} staging buffer`);
    };
    const ok = (r, what) => {
        assert.ok(!r.error, `${what}: ${JSON.stringify(r.error)}`);
        assert.deepEqual(r.tokens, ref, `${what}: token ids differ from native`);
        console.log(`  ${what}: ${JSON.stringify(r.store)}, ${r.threads} thread(s), ${r.progress} progress events, native tokens`);
        return r;
    };

    for (const threads of [1, 2]) {
        let r = ok(await run({ url: modelUrl, blob: true }, { store: 'blob', threads }), `blob ${threads}t`);
        assert.equal(r.store.read, 'host', 'FileReaderSync serves the engine read import');
        r = ok(await run({ url: modelUrl }, { store: 'range', threads }), `range ${threads}t`);
        assert.equal(r.store.read, 'host', 'synchronous Range requests serve the engine read import');
    }
    const r3 = ok(await run({ url: modelUrl }, { store: 'regions', regionBytes: Math.ceil(bytes.length / 3) }), 'regions from a URL');
    assert.ok(r3.store.regions >= 3);

    // OPFS: download once, then no network.
    const o1 = ok(await run({ url: modelUrl }, { store: 'opfs' }), 'opfs first visit');
    assert.equal(o1.store.cached, false);
    assert.equal(o1.store.fetched, bytes.length);
    const before = requestsTo(modelUrl).length;
    const o2 = ok(await run({ url: modelUrl }, { store: 'opfs' }), 'opfs later visit');
    assert.equal(o2.store.cached, true);
    assert.equal(o2.store.read, 'host');
    assert.equal(requestsTo(modelUrl).length, before, 'a cached load makes no request');

    // An interrupted download is not trusted; the next load resumes it with a Range request.
    const flaky = '/flaky' + modelUrl;
    cutNext = 600000;
    const f1 = await run({ url: flaky }, { store: 'opfs' });
    assert.equal(f1.error?.code, 'io', JSON.stringify(f1));
    assert.match(f1.error.message, /interrupted after \d+ of \d+ bytes.*resumes at byte \d+/);
    const st = await page.evaluate(async (u) => (await import('/js/src/index.js')).cacheStatus(new URL(u, location.href).href), flaky);
    assert.equal(st.cached, false, 'a partial download is not trusted');
    assert.ok(st.bytes > 0 && st.bytes <= 600000, `partial copy of ${st.bytes} bytes`);
    const f2 = ok(await run({ url: flaky }, { store: 'opfs' }), 'opfs resumed download');
    assert.equal(f2.store.resumedFrom, st.bytes);
    assert.equal(f2.store.fetched, bytes.length - st.bytes);
    assert.equal(requestsTo(flaky).at(-1).range, `bytes=${st.bytes}-`);
    // A resumed download is checked by its header too: a partial copy whose first bytes were
    // damaged is completed, found without the GGUF magic, deleted, and not trusted.
    const flakyH = flaky + '?header';
    cutNext = 600000;
    assert.equal((await run({ url: flakyH }, { store: 'opfs' })).error?.code, 'io');
    await page.evaluate(async (u) => {
        const { cacheStatus } = await import('/js/src/index.js');
        const { key } = await cacheStatus(new URL(u, location.href).href);
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('wasm-chord-models');
        const w = await (await dir.getFileHandle(key)).createWritable({ keepExistingData: true });
        await w.write({ type: 'write', position: 0, data: new Uint8Array([88, 88, 88, 88]) });
        await w.close();
    }, flakyH);
    const h1 = await run({ url: flakyH }, { store: 'opfs' });
    assert.equal(h1.error?.code, 'format', JSON.stringify(h1));
    assert.match(h1.error.message, /not a GGUF file \(no GGUF magic\); nothing was cached/);
    const hs = await page.evaluate(async (u) => (await import('/js/src/index.js')).cacheStatus(new URL(u, location.href).href), flakyH);
    assert.equal(hs.cached, false);
    assert.equal(hs.bytes, 0, 'the damaged copy was deleted');
    const h2 = ok(await run({ url: flakyH }, { store: 'opfs' }), 'opfs after a damaged partial copy');
    assert.equal(h2.store.resumedFrom, 0, 'downloaded from the start');

    // Paged: 2 layer slots, the next layer's slot filled by the store worker while one computes.
    for (const threads of [1, 2])
        for (const [what, source, opts] of [['blob', { url: modelUrl, blob: true }, { store: 'blob' }],
            ['range', { url: modelUrl }, {}], ['opfs', { url: modelUrl }, { store: 'opfs' }],
            ['regions', { url: modelUrl }, { store: 'regions', regionBytes: Math.ceil(bytes.length / 3) }]]) {
            const r = ok(await run(source, { ...opts, residency: 'paged', cacheLayers: 2, threads }), `paged from ${what}, 2 slots, ${threads}t`);
            const c = r.cache;
            assert.equal(r.store.kind, what);
            assert.equal(r.path.prefetch, 'async', JSON.stringify(r.path));
            assert.equal(c.hits + c.misses + c.prefetch_hits, (ref.length + 1) * c.n_layer, JSON.stringify(c));
            assert.equal(c.misses, 1, `only the first layer is a demand read: ${JSON.stringify(c)}`);
            assert.equal(c.prefetch_hits, (ref.length + 1) * c.n_layer - 1);
            if (what === 'blob' || what === 'range') pooled(c, `paged from ${what}, ${threads}t`);
            console.log(`    cache: ${c.misses} miss, ${c.prefetch_hits} prefetch hits, stall ${c.stall_ms.toFixed(1)} ms, ` +
                `store worker read ${c.async_reads} layers in ${c.async_read_ms.toFixed(1)} ms`);
        }
    // Without the prefetch: read when acquired.
    const r0 = ok(await run({ url: modelUrl }, { residency: 'paged', cacheLayers: 2, threads: 2, prefetch: 0 }), 'paged from range, prefetch 0');
    assert.equal(r0.path.prefetch, 'on-demand');
    assert.equal(r0.cache.prefetch_hits, 0);
    pooled(r0.cache, 'paged from range, prefetch 0');
    const b0 = ok(await run({ url: modelUrl, blob: true }, { store: 'blob', residency: 'paged', cacheLayers: 2, threads: 2, prefetch: 0 }),
        'paged from blob, prefetch 0');
    pooled(b0.cache, 'paged from blob, prefetch 0');
    // Issue 11: pieces smaller than a layer (storePieceBytes 16 KiB: ~12 pieces per layer): the
    // store worker reads the next piece into its second staging buffer while one is copied into
    // the slot — 2 reads in flight, 2 staging buffers, nothing unpooled, native tokens. Before,
    // one piece at a time through one buffer (150–230 MB/s from a File).
    for (const [what, source, opts] of [['blob', { url: modelUrl, blob: true }, { store: 'blob' }], ['range', { url: modelUrl }, {}]]) {
        const r = ok(await run(source, { ...opts, residency: 'paged', cacheLayers: 2, threads: 2, storePieceBytes: 16 << 10 }),
            `paged from ${what}, 16 KiB pieces`);
        const c = r.cache;
        assert.equal(r.path.prefetch, 'async');
        assert.equal(c.misses, 1, JSON.stringify(c));
        assert.equal(c.store_staging_buffers, 2, JSON.stringify(c));
        assert.equal(c.store_reads_in_flight_max, 2, JSON.stringify(c));
        assert.equal(c.store_unpooled_bytes, 0, JSON.stringify(c));
        assert.ok(c.store_pieces > 8 * (c.misses + c.prefetch_hits), JSON.stringify(c));
        console.log(`    ${what}: ${c.store_pieces} pieces of ≤ 16 KiB, ${c.store_reads_in_flight_max} read at once, ${c.store_staging_buffers} staging buffers`);
    }

    // Status, list, delete.
    const cache = await page.evaluate(async (u) => {
        const { cacheStatus, cacheDelete, cacheList } = await import('/js/src/index.js');
        const url = new URL(u, location.href).href;
        const a = await cacheStatus(url);
        const list = await cacheList();
        const deleted = await cacheDelete(url);
        return { a, list: list.length, deleted, b: await cacheStatus(url) };
    }, modelUrl);
    assert.equal(cache.a.cached, true);
    assert.ok(cache.list >= 2);
    assert.equal(cache.deleted, true);
    assert.equal(cache.b.cached, false);
    console.log(`  opfs cache: status/list/delete ok (${cache.list} entries before delete)`);

    // Faults mid-generation (paged, 2 slots): the generate ends with io naming the layer and the
    // offset; the model stays usable.
    const session = (expr, arg) => page.evaluate(expr, arg);
    const load = (src, opts) => session(async ({ src, opts, wasmBase }) => {
        const { loadModel } = await import('/js/src/index.js');
        const s = src.input ? document.querySelector('#pick').files[0] : src.url;
        window.__m = await loadModel(s, { wasmBase, residency: 'paged', cacheLayers: 2, threads: 2, ...opts });
        return window.__m.info.path;
    }, { src, opts, wasmBase });
    const gen = () => session(async (n) => {
        try {
            const tokens = [];
            for await (const p of window.__m.generate('', { temperature: 0, maxTokens: n })) if (p.token >= 0) tokens.push(p.token);
            return { tokens };
        } catch (e) { return { error: { code: e.code, message: e.message } }; }
    }, ref.length);
    const failsMidway = async (what, breakIt, healIt, re) => {
        const g = await gen();
        assert.equal(g.error?.code, "io", `${what}: ${JSON.stringify(g).slice(0, 600)}`);
        assert.match(g.error.message, re, `${what}: ${g.error.message}`);
        assert.match(g.error.message, /reading layer \d+ failed at offset \d+/, `${what}: names the layer and offset`);
        console.log(`  ${what} mid-generation: ${g.error.message.slice(0, 160)}…`);
        assert.deepEqual((await session(async () => Array.from(await window.__m.tokenize('Lily')))).length > 0, true,
            `${what}: the model is still usable`);
        if (healIt) {
            await healIt();
            assert.deepEqual((await gen()).tokens, ref, `${what}: native tokens again once the store works`);
        }
    };
    const bu = '/breakable' + modelUrl;
    assert.equal((await load({ url: bu }, {})).prefetch, 'async');
    assert.deepEqual((await gen()).tokens, ref);
    broken = 'fail';
    await failsMidway('range HTTP 503', null, () => { broken = null; }, /range store .*failed: HTTP 503/);
    broken = 'short';
    await failsMidway('range short answer', null, () => { broken = null; }, /range store .*failed: got \d+ bytes/);
    await session(() => window.__m.dispose());
    // A picked File whose file changes on disk: reads fail with NotReadableError.
    const picked = path.join(fs.mkdtempSync('/tmp/t_stores-'), 'picked.gguf');
    fs.writeFileSync(picked, bytes);
    await session(() => { const i = document.createElement('input'); i.type = 'file'; i.id = 'pick'; document.body.append(i); });
    await page.setInputFiles('#pick', picked);
    // Issue 11: a streamed (resident) load of the disk-backed File reads slices of it, 3 at a
    // time, each straight into a staging buffer (BYOB; one read at a time ran at 200–300 MB/s
    // here): no chunk of the stream's own (unpooled) and at most 4 staging buffers. Before, the
    // load copied a default stream reader's chunks (unpooledBytes = the file size).
    {
        const r = await session(async ({ wasmBase, n }) => {
            const { loadModel } = await import('/js/src/index.js');
            const m = await loadModel(document.querySelector('#pick').files[0], { wasmBase, threads: 2, loadChunkBytes: 64 << 10 });
            const tokens = [];
            for await (const p of m.generate('', { temperature: 0, maxTokens: n })) if (p.token >= 0) tokens.push(p.token);
            const load = m.info.load;
            await m.dispose();
            return { tokens, load };
        }, { wasmBase, n: ref.length });
        assert.deepEqual(r.tokens, ref, 'streamed File load: native tokens');
        assert.equal(r.load.byob, true, JSON.stringify(r.load));
        assert.equal(r.load.unpooledBytes, 0, JSON.stringify(r.load));
        assert.equal(r.load.readsInFlight, 3, JSON.stringify(r.load));
        assert.equal(r.load.chunks, Math.ceil(bytes.length / (64 << 10)));
        assert.ok(r.load.stagingBuffers <= 4, JSON.stringify(r.load));
        console.log(`  streamed File load: ${r.load.chunks} chunks, ${r.load.readsInFlight} reads in flight, ${r.load.stagingBuffers} staging buffers, 0 unpooled bytes, native tokens`);
    }
    // The no-progress watchdog (sources.js) on Chromium's own Blob streams: slices of the picked
    // File (from 64 KiB on) whose first stream never delivers are cancelled after stallTimeoutMs
    // and read again — the load completes with the native tokens and counts the retries; slices
    // that never deliver fail the load with io naming the file and byte, instead of a hang.
    {
        const r = await session(async ({ wasmBase, n }) => {
            const { loadModel } = await import('/js/src/index.js');
            class StallingBlob extends Blob {
                constructor(parts, times) { super(parts); this.times = times; this.stalls = new Map(); }
                slice(a, b) {
                    const part = Blob.prototype.slice.call(this, a, b), k = this.stalls.get(a) ?? 0;
                    if (a < (64 << 10) || k >= this.times) return part;
                    this.stalls.set(a, k + 1);
                    return { stream: () => new ReadableStream({ type: 'bytes', pull: () => new Promise(() => {}) }) };
                }
            }
            const file = document.querySelector('#pick').files[0];
            const once = new StallingBlob([file], 1);
            const m = await loadModel(once, { wasmBase, threads: 2, loadChunkBytes: 64 << 10, stallTimeoutMs: 200 });
            const tokens = [];
            for await (const p of m.generate('', { temperature: 0, maxTokens: n })) if (p.token >= 0) tokens.push(p.token);
            const retries = m.info.load.stallRetries, stalled = once.stalls.size;
            await m.dispose();
            let error = null;
            try { await loadModel(new StallingBlob([file], Infinity), { wasmBase, threads: 1, loadChunkBytes: 64 << 10, stallTimeoutMs: 200 }); }
            catch (e) { error = { code: e.code, message: e.message }; }
            return { tokens, retries, stalled, error };
        }, { wasmBase, n: ref.length });
        assert.deepEqual(r.tokens, ref, 'a File load whose slices stall once: native tokens');
        assert.ok(r.stalled >= 2 && r.retries === r.stalled, JSON.stringify(r));
        assert.equal(r.error?.code, 'io', JSON.stringify(r));
        assert.match(r.error.message, /no bytes for 0\.2 s reading blob at byte \d+/);
        console.log(`  File slices that stall: ${r.retries} read again, native tokens; always stalling: ${r.error.message}`);
    }
    assert.equal((await load({ input: true }, { store: 'blob' })).prefetch, 'async');
    assert.deepEqual((await gen()).tokens, ref, 'picked File, before the change');
    fs.writeFileSync(picked, Buffer.concat([bytes, Buffer.alloc(1)]));
    await failsMidway('a picked File changed on disk', null, null, /blob store .*(NotReadableError|the file cannot be read: changed, moved or deleted)/);
    await session(() => window.__m.dispose());
    fs.rmSync(path.dirname(picked), { recursive: true, force: true });
    // The OPFS sync access handle closed under the store mid-generation. The test closes it from
    // inside the worker that holds it (DevTools evaluation there): FileSystemSyncAccessHandle's
    // read is wrapped to call this.close() first while armed, so the store's read meets a really
    // closed handle (InvalidStateError). Closed once: the store opens the checked copy again
    // before its next read, and the generate gives the native ids (store_reopened 1). Closed at
    // every read: the generate ends with io naming the layer and offset, the model stays usable,
    // and once disarmed the next generate heals. With the async prefetch the handle is the store
    // worker's (store_helper.js), with prefetch 0 the engine worker's (worker.js).
    const armClose = async (file, mode) => {
        // page.workers() still lists the workers of earlier, disposed models, and an evaluation
        // in one of those never settles: newest first, each given 3 s, until one answers.
        const ws = page.workers().filter((w) => new URL(w.url()).pathname.endsWith('/' + file)).reverse();
        let armed = false;
        for (const w of ws) {
            armed = await Promise.race([
                w.evaluate((mode) => {
                    const P = FileSystemSyncAccessHandle.prototype;
                    if (!P.realRead) {
                        P.realRead = P.read;
                        P.read = function (...a) {
                            if (self.closeReads) { if (self.closeReads === 'once') self.closeReads = null; this.close(); }
                            return P.realRead.apply(this, a);
                        };
                    }
                    self.closeReads = mode;
                    return true;
                }, mode).catch(() => false),
                new Promise((res) => setTimeout(() => res(false), 3000)),
            ]);
            if (armed) break;
        }
        assert.ok(armed, `a live ${file} worker among ${ws.length} listed`);
    };
    for (const [file, opts] of [['store_helper.js', {}], ['worker.js', { prefetch: 0 }]]) {
        const what = `OPFS handle closed (${file})`;
        assert.equal((await load({ url: modelUrl }, { store: 'opfs', ...opts })).prefetch, opts.prefetch === 0 ? 'on-demand' : 'async');
        assert.deepEqual((await gen()).tokens, ref, `${what}: before`);
        await armClose(file, 'once');
        const g = await gen();
        const cs = await session(() => window.__m.cacheStats());
        if (opts.prefetch === 0) {
            // reads inside the engine are synchronous: that generate fails, the next one heals
            assert.equal(g.error?.code, 'io', `${what}, once: ${JSON.stringify(g)}`);
            assert.match(g.error.message, /opfs store .*InvalidStateError.*reading layer \d+ failed at offset \d+/);
            assert.deepEqual((await gen()).tokens, ref, `${what}, once: the next generate`);
        } else {
            assert.deepEqual(g.tokens, ref, `${what}, once: ${JSON.stringify(g).slice(0, 400)}`);
            assert.ok(cs.async_failed >= 1, JSON.stringify(cs));
        }
        const cs2 = await session(() => window.__m.cacheStats());
        assert.equal(cs2.store_reopened, 1, JSON.stringify(cs2));
        console.log(`  ${what} once: reopened (store_reopened ${cs2.store_reopened}), ${opts.prefetch === 0 ? 'that generate io, the next native' : 'native tokens'}`);
        await armClose(file, 'always');
        await failsMidway(`${what} at every read`, null, () => armClose(file, null), /(opfs store .*|OPFS cache file .*)InvalidStateError/);
        await session(() => window.__m.dispose());
    }
    // Site data cleared (DevTools Storage.clearDataForOrigin) under a paged model reading the
    // OPFS copy: its open sync access handle keeps working, so generation goes on unharmed.
    assert.equal((await load({ url: modelUrl }, { store: 'opfs' })).prefetch, 'async');
    assert.deepEqual((await gen()).tokens, ref, 'opfs before the clear');
    {
        const cdp0 = await browser.context.newCDPSession(page);
        await cdp0.send('Storage.clearDataForOrigin', { origin, storageTypes: 'file_systems' });
        await cdp0.detach();
    }
    assert.deepEqual((await gen()).tokens, ref, 'opfs after site data was cleared');
    await session(() => window.__m.dispose());

    // OPFS quota: a quota smaller than the model (DevTools) fails the download with nomem and
    // leaves nothing a later visit could trust. (Chromium grants sync-access-handle space in
    // chunks of more than 1 MiB, so with this quota the first grant — for the record — fails.)
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'file_systems' });
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 600000 });
    const qUrl = modelUrl + '?quota';
    const q = await run({ url: qUrl }, { store: 'opfs' });
    assert.equal(q.error?.code, 'nomem', JSON.stringify(q));
    assert.match(q.error.message, /OPFS quota is exhausted (creating the file|writing its record|writing the data) after \d+ of \d+ bytes.*partial copy was deleted/);
    console.log(`  opfs quota (usage ${usage} B + 600000 B): ${q.error.message}`);
    // → { st: cacheStatus(u), listed: whether cacheList has a record of u }
    const cacheState = (u) => page.evaluate(async (u) => {
        const { cacheStatus, cacheList } = await import('/js/src/index.js');
        const url = new URL(u, location.href).href;
        return { st: await cacheStatus(url), listed: (await cacheList()).some((e) => e.url === url) };
    }, u);
    const qs = await cacheState(qUrl);
    assert.equal(qs.st.cached, false);
    assert.equal(qs.st.bytes, 0, 'no partial copy left');
    assert.equal(qs.listed, false, 'no record left');
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    ok(await run({ url: qUrl }, { store: 'opfs' }), 'opfs after the quota was lifted');

    // The quota running out in the middle of the data: 2.5 MB of room for a larger model, so
    // the record and the first grants succeed and a later one fails; the partial copy is deleted,
    // and once the quota is lifted the next load downloads it afresh and gives the native ids.
    await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'file_systems' });
    const usage2 = await page.evaluate(async () => (await navigator.storage.estimate()).usage);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage2 + 2500000 });
    const mid = { ...await run({ url: quotaModelUrl }, { store: 'opfs' }, quotaRef.length), ...await cacheState(quotaModelUrl) };
    assert.equal(mid.error?.code, 'nomem', JSON.stringify(mid));
    const at = /OPFS quota is exhausted writing the data after (\d+) of (\d+) bytes.*partial copy was deleted/.exec(mid.error.message);
    assert.ok(at, mid.error.message);
    assert.ok(Number(at[1]) > 0 && Number(at[1]) < quotaModelBytes && Number(at[2]) === quotaModelBytes, mid.error.message);
    assert.equal(mid.st.cached, false);
    assert.equal(mid.st.bytes, 0, 'no partial copy left after a quota error in the data');
    assert.equal(mid.listed, false, 'no record left after a quota error in the data');
    console.log(`  opfs quota in the middle of the data (room 2500000 B): ${mid.error.message}`);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    const again = { ...await run({ url: quotaModelUrl }, { store: 'opfs' }, quotaRef.length), ...await cacheState(quotaModelUrl) };
    assert.ok(!again.error, JSON.stringify(again.error));
    assert.deepEqual(again.tokens, quotaRef, 'opfs download after a quota error: native ids');
    assert.equal(again.st.cached, true);
    assert.equal(again.st.bytes, quotaModelBytes);
    console.log(`  opfs after the quota ran out midway and was lifted: downloaded afresh (${again.st.bytes} B), native tokens`);

    // Faults.
    const bad = await run({ url: '/bad' + modelUrl }, { store: 'range' });
    assert.equal(bad.error?.code, 'io', JSON.stringify(bad));
    assert.match(bad.error.message, /range store .*reading \d+ bytes at offset \d+ failed: got \d+ bytes/);
    console.log(`  range fault: ${bad.error.message}`);
    assert.deepEqual(errors, [], 'no page errors');
    console.log('PASS host stores in Chromium');
} catch (e) {
    failed = true;
    console.log(`FAIL ${e.stack}`);
} finally {
    await browser.close();
    server.closeAllConnections?.();
    server.close();
}
process.exit(failed ? 1 : 0);
