// file_read.mjs — how fast headless Chromium reads a disk-backed File by each method (issue 11:
// the File load and the Blob store's pieces). Prints a table of MB/s; run it with the file warm
// in the page cache. Every method runs in a fresh dedicated worker of one page, rounds
// interleaved.
//
//   node bench/file_read.mjs FILE [--limit BYTES] [--rounds N] [--methods a,b]
//
// methods: stream (default reader of file.stream()), stream-byob, slice-ab@PIECE/DEPTH
// (slice().arrayBuffer(), DEPTH outstanding), slice-byob@PIECE/DEPTH (a BYOB read of each
// slice's stream into a reused buffer), frs@PIECE (FileReaderSync). Measured here (warm 4 GB file,
// load 8-14): one read at a time 150-360 MB/s, slice-byob@16/2..4 570-1160 MB/s; slices of 24 MiB
// two at a time ~150 MB/s and of 32 MiB two at a time stalled (hence a 16 MiB cap per slice).
import fs from 'node:fs';
import path from 'node:path';
import { launch } from '../tests/browser/chromium.mjs';
import { serve } from '../tools/serve.mjs';

const args = process.argv.slice(2);
const file = path.resolve(args[0]);
let limit = 2 ** 40, rounds = 2;
let methods = ['stream', 'slice-ab@16/1', 'slice-ab@16/2', 'slice-ab@16/4', 'slice-byob@16/1', 'slice-byob@16/2', 'frs@16'];
for (let i = 1; i < args.length; i++) {
    if (args[i] === '--limit') limit = Number(args[++i]);
    else if (args[i] === '--rounds') rounds = Number(args[++i]);
    else if (args[i] === '--methods') methods = args[++i].split(',');
}
const srv = await serve({ port: 0 });
const browser = await launch();
const rows = [];
try {
    const page = await browser.page();
    await page.goto(`${srv.url}web/`);
    await page.evaluate(() => { const i = document.createElement('input'); i.type = 'file'; i.id = 'f'; document.body.append(i); });
    await page.setInputFiles('#f', file);
    for (let r = 0; r < rounds; r++) {
        for (const m of methods) {
            const [method, spec = '8/1'] = m.split('@');
            const [pm, depth = '1'] = spec.split('/');
            const res = await page.evaluate(async (o) => {
                const w = new Worker('/bench/file_read_worker.js');
                const f = document.getElementById('f').files[0];
                const out = await new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.onerror = (e) => resolve({ error: e.message }); w.postMessage({ file: f, ...o }); });
                w.terminate();
                return out;
            }, { method, piece: Number(pm) << 20, depth: Number(depth), limit });
            res.name = m;
            res.load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
            rows.push(res);
            console.error(`file_read: ${m}: ${res.error ?? `${res.mbs.toFixed(0)} MB/s (${(res.bytes / 1e9).toFixed(2)} GB in ${(res.ms / 1000).toFixed(1)} s), load ${res.load}`}`);
        }
    }
} finally {
    await browser.close();
    await srv.close();
}
console.log(`\n| method | MB/s (each round) | load average |\n|---|---|---|`);
for (const m of methods) {
    const rs = rows.filter((r) => r.name === m);
    console.log(`| ${m} | ${rs.map((r) => r.error ? 'error' : r.mbs.toFixed(0)).join(' / ')} | ${rs.map((r) => r.load).join(' / ')} |`);
}
