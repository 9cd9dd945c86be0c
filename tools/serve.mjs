#!/usr/bin/env node
// serve.mjs — a small static file server for the demo page, the browser tests and the browser
// bench. It sends the COOP/COEP headers that make a page crossOriginIsolated (needed for
// SharedArrayBuffer, hence for threads on shared wasm memory), serves .wasm as application/wasm,
// answers HEAD and byte Range requests (with ETag/Last-Modified and If-Range), and streams files
// (models can be gigabytes).
//
//   node tools/serve.mjs [--port N] [--host H] [--root DIR] [--mount /url/=DIR ...] [--no-isolation]
//                        [--page PATH]   (the page whose address is printed; default web/)
//
// The repository root is served at /, the test material ($CHORD_SHARED or the repository) at /shared/. Prints "serving http://H:P/web/".
// As a module: `const srv = await serve({ port: 0 })` → { url, port, close() }.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
    '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
    '.json': 'application/json', '.wasm': 'application/wasm', '.map': 'application/json',
    '.md': 'text/plain; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml',
    '.png': 'image/png', '.ico': 'image/x-icon',
};

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function resolve(mounts, urlPath) {
    let p;
    try { p = decodeURIComponent(urlPath); } catch { return null; }
    if (p.includes('\0')) return null;
    for (const [prefix, dir] of mounts) {
        if (!p.startsWith(prefix)) continue;
        const full = path.resolve(dir, '.' + path.posix.normalize('/' + p.slice(prefix.length)));
        if (full !== dir && !full.startsWith(dir + path.sep)) return null;
        return full;
    }
    return null;
}

export function handler(mounts, isolation, log) {
    return (req, res) => {
        const url = new URL(req.url, 'http://x');
        const h = {
            'Cache-Control': 'no-store',
            'Accept-Ranges': 'bytes',
        };
        if (isolation) {
            h['Cross-Origin-Opener-Policy'] = 'same-origin';
            h['Cross-Origin-Embedder-Policy'] = 'require-corp';
            h['Cross-Origin-Resource-Policy'] = 'same-origin';
        }
        const send = (code, body, extra = {}) => {
            res.writeHead(code, { ...h, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
            res.end(req.method === 'HEAD' ? undefined : body);
        };
        if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
        if (url.pathname === '/') return send(302, '', { Location: '/web/' });
        let file = resolve(mounts, url.pathname);
        if (!file) return send(404, 'not found\n');
        let st;
        try {
            st = fs.statSync(file);
            if (st.isDirectory()) {
                if (!url.pathname.endsWith('/')) return send(301, '', { Location: url.pathname + '/' });
                file = path.join(file, 'index.html');
                st = fs.statSync(file);
            }
        } catch {
            return send(404, 'not found\n');
        }
        const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
        let start = 0, end = st.size - 1, code = 200;
        // Validators, so that a client can resume a download safely (If-Range).
        h.ETag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
        h['Last-Modified'] = st.mtime.toUTCString();
        const ifRange = req.headers['if-range'];
        const rangeOk = !ifRange || ifRange === h.ETag || ifRange === h['Last-Modified'];
        const range = rangeOk && req.headers.range && /^bytes=(\d*)-(\d*)$/.exec(req.headers.range);
        if (range) {
            if (range[1] === '') { start = Math.max(0, st.size - Number(range[2])); }
            else { start = Number(range[1]); if (range[2] !== '') end = Math.min(end, Number(range[2])); }
            if (start > end || start >= st.size)
                return send(416, 'range not satisfiable\n', { 'Content-Range': `bytes */${st.size}` });
            code = 206;
            h['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
        }
        res.writeHead(code, { ...h, 'Content-Type': type, 'Content-Length': String(end - start + 1) });
        log?.(`${code} ${req.method} ${url.pathname}`);
        if (req.method === 'HEAD' || st.size === 0) return res.end();
        const stream = fs.createReadStream(file, { start, end, highWaterMark: 1 << 20 });
        stream.on('error', () => res.destroy());
        stream.pipe(res);
    };
}

/** Starts the server; resolves to { url, port, close }. */
export function serve({ port = 0, host = '127.0.0.1', root = repo, mounts = [], isolation = true, log = null } = {}) {
    const shared = process.env.CHORD_SHARED ? path.resolve(process.env.CHORD_SHARED) : path.resolve(root);
    const all = [...mounts.map(([p, d]) => [p, path.resolve(d)]), ['/shared/', shared], ['/', path.resolve(root)]];
    const server = http.createServer(handler(all, isolation, log));
    return new Promise((ok, fail) => {
        server.once('error', fail);
        server.listen(port, host, () => {
            const p = server.address().port;
            ok({
                url: `http://${host}:${p}/`, port: p, server,
                close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
            });
        });
    });
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
    const args = process.argv.slice(2);
    const o = { port: Number(process.env.PORT ?? 8080), host: '127.0.0.1', mounts: [], isolation: true, log: null, page: 'web/' };
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === '--port') o.port = Number(args[++i]);
        else if (a === '--host') o.host = args[++i];
        else if (a === '--root') o.root = args[++i];
        else if (a === '--mount') { const [p, d] = args[++i].split('='); o.mounts.push([p, d]); }
        else if (a === '--no-isolation') o.isolation = false;
        else if (a === '--verbose') o.log = (s) => console.log(s);
        else if (a === '--page') o.page = args[++i].replace(/^\//, '');
        else { console.error(`serve: unknown option ${a}`); process.exit(2); }
    }
    if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) { console.error('serve: bad --port'); process.exit(2); }
    try {
        const s = await serve(o);
        console.log(`serving ${s.url}${o.page}  (repo root at /, test material at /shared/; COOP/COEP ${o.isolation ? 'on' : 'off'}; Ctrl-C stops)`);
    } catch (e) {
        console.error(`serve: cannot listen on ${o.host}:${o.port}: ${e.message}`);
        process.exit(1);
    }
}
