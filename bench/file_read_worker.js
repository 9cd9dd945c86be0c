// file_read_worker.js — the worker side of bench/file_read.mjs: reads a File by one method and
// reports MB/s. Each method reads [0, limit) of the file and drops the bytes.
self.onmessage = async ({ data: { file, method, piece, depth, limit } }) => {
    const size = Math.min(file.size, limit);
    const timedPut = () => {};
    const t0 = performance.now();
    let n = 0;
    if (method === 'stream') {
        const rd = file.slice(0, size).stream().getReader();
        for (;;) { const r = await rd.read(); if (r.done) break; timedPut(n, r.value); n += r.value.byteLength; }
    } else if (method === 'stream-byob') {
        const rd = file.slice(0, size).stream().getReader({ mode: 'byob' });
        let buf = new ArrayBuffer(piece);
        for (;;) {
            const r = await rd.read(new Uint8Array(buf));
            if (r.done) break;
            timedPut(n, r.value); n += r.value.byteLength; buf = r.value.buffer;
        }
    } else if (method === 'slice-ab') {
        // depth reads outstanding
        const q = [];
        let next = 0;
        const issue = () => { const o = next; next += piece; return file.slice(o, Math.min(o + piece, size)).arrayBuffer().then((b) => [o, b]); };
        while (next < size && q.length < depth) q.push(issue());
        while (q.length) {
            const [o, b] = await q.shift();
            if (next < size) q.push(issue());
            timedPut(o, new Uint8Array(b)); n += b.byteLength;
        }
    } else if (method === 'slice-byob') {
        // one reused buffer per outstanding read
        let next = 0;
        const one = async (buf, o) => {
            const rd = file.slice(o, Math.min(o + piece, size)).stream().getReader({ mode: 'byob' });
            let k = 0, len = Math.min(piece, size - o);
            while (k < len) { const r = await rd.read(new Uint8Array(buf, k, len - k)); if (r.done) break; buf = r.value.buffer; k += r.value.byteLength; }
            return [o, buf, k];
        };
        const q = [];
        while (next < size && q.length < depth) { q.push(one(new ArrayBuffer(piece), next)); next += piece; }
        while (q.length) {
            const [o, buf, k] = await q.shift();
            timedPut(o, new Uint8Array(buf, 0, k)); n += k;
            if (next < size) { q.push(one(buf, next)); next += piece; }
        }
    } else if (method === 'frs') {
        const fr = new FileReaderSync();
        for (let o = 0; o < size; o += piece) { const b = fr.readAsArrayBuffer(file.slice(o, Math.min(o + piece, size))); timedPut(o, new Uint8Array(b)); n += b.byteLength; }
    }
    const ms = performance.now() - t0;
    self.postMessage({ method, piece, depth, bytes: n, ms, mbs: n / 1e6 / (ms / 1000) });
};
