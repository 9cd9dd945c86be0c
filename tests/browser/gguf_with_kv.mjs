// gguf_with_kv.mjs — copies a GGUF file adding (or replacing) one string metadata key, e.g. a
// real chat template on stories260K for the chat tests:
//   node tests/browser/gguf_with_kv.mjs IN.gguf OUT.gguf tokenizer.chat_template TEMPLATE_FILE
// The KV section is walked field by field (GGUF v2/v3), the new key appended after the last one,
// the tensor-info section copied verbatim (its offsets are relative to the data section, so they
// stay valid) and the data section re-aligned to general.alignment (default 32).
import fs from 'node:fs';

const SCALAR = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8, ARRAY = 9;

export function withStringKv(buf, key, value) {
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let p = 0;
    const u32 = () => { const x = v.getUint32(p, true); p += 4; return x; };
    const u64 = () => { const x = Number(v.getBigUint64(p, true)); p += 8; return x; };
    const str = () => { const n = u64(); const s = new TextDecoder().decode(buf.subarray(p, p + n)); p += n; return s; };
    const skip = (type) => {
        if (type === STRING) { const n = u64(); p += n; return; }
        if (type === ARRAY) { const t = u32(), n = u64(); if (t in SCALAR) p += SCALAR[t] * n; else for (let i = 0; i < n; i++) skip(t); return; }
        if (!(type in SCALAR)) throw new Error(`GGUF: unknown value type ${type} at ${p}`);
        p += SCALAR[type];
    };
    if (u32() !== 0x46554747) throw new Error('not a GGUF file');
    const version = u32();
    if (version < 2) throw new Error(`GGUF v${version} is not supported`);
    const nTensors = u64(), nKv = u64();
    const kept = [];             // [start, end) of every KV except the one replaced
    let align = 32;
    for (let i = 0; i < nKv; i++) {
        const start = p, k = str(), type = u32();
        if (k === 'general.alignment' && type === 4) align = v.getUint32(p, true);
        skip(type);
        if (k !== key) kept.push([start, p]);
    }
    const tensorsStart = p;
    for (let i = 0; i < nTensors; i++) { str(); const nd = u32(); p += 8 * nd + 4 + 8; }
    const tensorsEnd = p;
    const dataStart = Math.ceil(tensorsEnd / align) * align;

    const enc = new TextEncoder();
    const kb = enc.encode(key), vb = enc.encode(value);
    const kv = new Uint8Array(8 + kb.length + 4 + 8 + vb.length);
    const kvv = new DataView(kv.buffer);
    kvv.setBigUint64(0, BigInt(kb.length), true);
    kv.set(kb, 8);
    kvv.setUint32(8 + kb.length, STRING, true);
    kvv.setBigUint64(12 + kb.length, BigInt(vb.length), true);
    kv.set(vb, 20 + kb.length);

    const counts = new Uint8Array(8);
    new DataView(counts.buffer).setBigUint64(0, BigInt(kept.length + 1), true);
    const parts = [buf.subarray(0, 16), counts, ...kept.map(([a, b]) => buf.subarray(a, b)), kv, buf.subarray(tensorsStart, tensorsEnd)];
    const headerLen = parts.reduce((n, x) => n + x.length, 0);
    const padded = Math.ceil(headerLen / align) * align;
    const out = new Uint8Array(padded + (buf.length - dataStart));
    let o = 0;
    for (const x of parts) { out.set(x, o); o += x.length; }
    out.set(buf.subarray(dataStart), padded);
    return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
    const [inp, outp, key, valueFile] = process.argv.slice(2);
    if (!valueFile) {
        console.error('usage: gguf_with_kv.mjs IN.gguf OUT.gguf KEY VALUE_FILE');
        process.exit(2);
    }
    fs.writeFileSync(outp, withStringKv(fs.readFileSync(inp), key, fs.readFileSync(valueFile, 'utf8')));
}
