// stores.mjs — the browser host stores (js/src/stores.js, opfs.js) in headless Chromium, through
// loadModel's `store` option: a File/Blob read with FileReaderSync in the engine worker, a URL
// read with synchronous Range requests, ArrayBuffer regions filled from a URL (>= 3 regions), and
// the OPFS cache — downloaded once, then loaded with no request to the server; an interrupted
// download fails with io, and the next load resumes it with a Range request; cacheStatus and
// cacheDelete; paged weights (2 slots) from a Blob, Range and OPFS. Every load must give the
// native token ids. Faults: a Range answer of the wrong
// length is ChordError('io') naming the offset.
//
//   node tests/browser/stores.mjs NATIVE.json MODEL.gguf    (MODEL inside the repository)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { launch, repo } from './chromium.mjs';
import { handler } from '../../tools/serve.mjs';

const [refFile, modelArg] = process.argv.slice(2);
const ref = JSON.parse(fs.readFileSync(refFile, 'utf8').trim().split('\n').pop()).tokens;
const model = path.resolve(modelArg);
const modelUrl = '/' + path.relative(repo, model);
const bytes = fs.readFileSync(model);
const buildDir = process.env.BUILD ?? 'build';

// The repository with COOP/COEP, plus: a request log, /flaky/<path> (the same file; the next
// whole-file answer is cut after `cutNext` bytes), /bad/<path> (Range answers past the first
// MiB are 100 bytes short).
const base = handler([['/', repo]], true, null);
const log = [];
let cutNext = 0;
const server = http.createServer((req, res) => {
    log.push({ url: req.url, range: req.headers.range ?? null });
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
    const run = (source, opts) => page.evaluate(async ({ source, opts, wasmBase, n }) => {
        const { loadModel } = await import('/js/src/index.js');
        let src = source.url;
        if (source.blob) src = await (await fetch(source.url)).blob();
        let progress = 0;
        try {
            const m = await loadModel(src, { wasmBase, ...opts, onProgress: () => { progress++; } });
            const tokens = [];
            for await (const p of m.generate('', { temperature: 0, maxTokens: n })) if (p.token >= 0) tokens.push(p.token);
            const r = { tokens, store: m.info.store, threads: m.info.threads, progress };
            await m.dispose();
            return r;
        } catch (e) { return { error: { code: e.code, message: e.message } }; }
    }, { source, opts, wasmBase, n: ref.length });
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

    // Paged: 2 layer slots read through the engine's read import while generating.
    for (const [what, source, opts] of [['blob', { url: modelUrl, blob: true }, { store: 'blob' }],
        ['range', { url: modelUrl }, {}], ['opfs', { url: modelUrl }, { store: 'opfs' }]]) {
        const r = ok(await run(source, { ...opts, residency: 'paged', cacheLayers: 2, threads: 2 }), `paged from ${what}, 2 slots`);
        assert.equal(r.store.kind, what);
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
