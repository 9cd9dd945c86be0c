// gguf.js — a GGUF *header* reader for the host side: it reads the key/value metadata and the
// tensor table from the first bytes of a file so that loadModel can check the memory budget and
// pick a build before anything large is allocated. The engine parses the file again (in C, with
// its own checks); this reader only has to be safe on any input: every length is checked against
// the bytes present and against the file size, and malformed input gives ChordError('format').
//
// Layout (little-endian): magic "GGUF", u32 version (2 or 3), u64 n_tensors, u64 n_kv,
// n_kv × (string key, u32 type, value), n_tensors × (string name, u32 n_dims, u64 dims[n_dims],
// u32 type, u64 offset), padding to general.alignment (default 32), tensor data.

import { ChordError } from './errors.js';

const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9,
    U64: 10, I64: 11, F64: 12 };
const SCALAR_BYTES = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const MAX_DIMS = 8;
// Arrays longer than this are summarised (length only); tokenizer vocabularies are skipped.
const KEEP_ARRAY = 64;

class NeedMore extends Error {}

class Cursor {
    constructor(bytes, fileSize) {
        this.b = bytes;
        this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        this.p = 0;
        this.fileSize = fileSize;
        this.td = new TextDecoder('utf-8', { fatal: false });
    }
    need(n, what) {
        if (this.fileSize != null && this.p + n > this.fileSize)
            throw new ChordError('format', `GGUF: ${what} at offset ${this.p} needs ${n} bytes, past the end of the file (${this.fileSize} bytes)`);
        if (this.p + n > this.b.byteLength) throw new NeedMore();
    }
    u32(what) { this.need(4, what); const x = this.v.getUint32(this.p, true); this.p += 4; return x; }
    u64(what) {
        this.need(8, what);
        const x = this.v.getBigUint64(this.p, true);
        this.p += 8;
        if (x > BigInt(Number.MAX_SAFE_INTEGER))
            throw new ChordError('format', `GGUF: ${what} at offset ${this.p - 8} is too large (${x})`);
        return Number(x);
    }
    str(what) {
        const n = this.u64(`${what} length`);
        this.need(n, what);
        const s = this.td.decode(this.b.subarray(this.p, this.p + n));
        this.p += n;
        return s;
    }
    skip(n, what) { this.need(n, what); this.p += n; }
    scalar(type, what) {
        this.need(SCALAR_BYTES[type], what);
        const v = this.v, p = this.p;
        let x;
        switch (type) {
        case T.U8: x = v.getUint8(p); break;
        case T.I8: x = v.getInt8(p); break;
        case T.U16: x = v.getUint16(p, true); break;
        case T.I16: x = v.getInt16(p, true); break;
        case T.U32: x = v.getUint32(p, true); break;
        case T.I32: x = v.getInt32(p, true); break;
        case T.F32: x = v.getFloat32(p, true); break;
        case T.BOOL: x = v.getUint8(p) !== 0; break;
        case T.U64: x = Number(v.getBigUint64(p, true)); break;
        case T.I64: x = Number(v.getBigInt64(p, true)); break;
        case T.F64: x = v.getFloat64(p, true); break;
        }
        this.p += SCALAR_BYTES[type];
        return x;
    }
}

function readValue(c, type, key) {
    if (type === T.STRING) return c.str(`value of ${key}`);
    if (type in SCALAR_BYTES) return c.scalar(type, `value of ${key}`);
    if (type !== T.ARRAY) throw new ChordError('format', `GGUF: key ${key} has unknown value type ${type}`);
    const et = c.u32(`array type of ${key}`);
    const n = c.u64(`array length of ${key}`);
    if (et === T.ARRAY) throw new ChordError('format', `GGUF: key ${key} is a nested array`);
    if (et === T.STRING) {
        const keep = [];
        for (let i = 0; i < n; i++) {
            const s = c.str(`${key}[${i}]`);
            if (i < KEEP_ARRAY) keep.push(s);
        }
        return { array: true, length: n, values: n <= KEEP_ARRAY ? keep : null };
    }
    if (!(et in SCALAR_BYTES)) throw new ChordError('format', `GGUF: key ${key} has arrays of unknown type ${et}`);
    const bytes = n * SCALAR_BYTES[et];
    if (n <= KEEP_ARRAY) {
        const vals = [];
        for (let i = 0; i < n; i++) vals.push(c.scalar(et, `${key}[${i}]`));
        return { array: true, length: n, values: vals };
    }
    c.skip(bytes, `array ${key}`);
    return { array: true, length: n, values: null };
}

function parse(bytes, fileSize) {
    const c = new Cursor(bytes, fileSize);
    c.need(4, 'magic');
    const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
    if (magic !== 'GGUF')
        throw new ChordError('format', `not a GGUF file: magic is ${JSON.stringify(magic)}, expected "GGUF"`);
    c.p = 4;
    const version = c.u32('version');
    if (version !== 2 && version !== 3)
        throw new ChordError('unsupported', `GGUF version ${version} is not supported (expected 2 or 3)`);
    const nTensors = c.u64('tensor count');
    const nKv = c.u64('key/value count');
    // Each key/value takes at least 12 bytes and each tensor at least 28: bound the counts by the
    // file size before looping.
    if (fileSize != null && (nKv * 12 > fileSize || nTensors * 28 > fileSize))
        throw new ChordError('format', `GGUF: ${nKv} keys / ${nTensors} tensors cannot fit in ${fileSize} bytes`);
    const meta = {};
    for (let i = 0; i < nKv; i++) {
        const key = c.str(`key #${i}`);
        const type = c.u32(`type of ${key}`);
        meta[key] = readValue(c, type, key);
    }
    const tensors = [];
    for (let i = 0; i < nTensors; i++) {
        const name = c.str(`tensor #${i} name`);
        const nd = c.u32(`dims of ${name}`);
        if (nd < 1 || nd > MAX_DIMS) throw new ChordError('format', `GGUF: tensor ${name} has ${nd} dimensions`);
        const dims = [];
        for (let d = 0; d < nd; d++) dims.push(c.u64(`dim ${d} of ${name}`));
        const type = c.u32(`type of ${name}`);
        const offset = c.u64(`offset of ${name}`);
        tensors.push({ name, dims, type, offset });
    }
    const align = typeof meta['general.alignment'] === 'number' ? meta['general.alignment'] : 32;
    if (!(align > 0 && (align & (align - 1)) === 0))
        throw new ChordError('format', `GGUF: general.alignment is ${align}, not a power of two`);
    const dataOffset = Math.ceil(c.p / align) * align;
    if (fileSize != null && dataOffset > fileSize)
        throw new ChordError('format', `GGUF: tensor data would start at ${dataOffset}, past the end (${fileSize})`);
    return { version, meta, tensors, headerBytes: c.p, dataOffset };
}

/**
 * Tries to read the header from a prefix of the file. Returns the header, or null when the
 * prefix is too short (read more and call again). Throws ChordError on malformed input.
 */
export function tryParseHeader(prefix, fileSize) {
    try {
        return parse(prefix, fileSize);
    } catch (e) {
        if (e instanceof NeedMore) return null;
        throw e;
    }
}

/** Hyper-parameters the budget check needs, from the header's metadata. */
export function hyperParams(h) {
    const m = h.meta;
    const arch = typeof m['general.architecture'] === 'string' ? m['general.architecture'] : '';
    const num = (k, d) => (typeof m[`${arch}.${k}`] === 'number' ? m[`${arch}.${k}`] : d);
    const nEmbd = num('embedding_length', 0);
    const nHead = num('attention.head_count', 0);
    const tokens = m['tokenizer.ggml.tokens'];
    const hp = {
        arch,
        nLayer: num('block_count', 0),
        nEmbd,
        nHead,
        nHeadKv: num('attention.head_count_kv', nHead),
        nFf: num('feed_forward_length', 4 * nEmbd),
        nCtxTrain: num('context_length', 2048),
        nVocab: num('vocab_size', tokens?.length ?? 0),
    };
    hp.headDim = num('attention.key_length', hp.nHead ? Math.floor(nEmbd / hp.nHead) : 0);
    return hp;
}
