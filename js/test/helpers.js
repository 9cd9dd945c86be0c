// helpers.js — shared set-up of the JS API tests: where the model and the .wasm builds are, the
// greedy reference story, and a writer for small synthetic GGUF headers (for the error tests).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ChordError } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
// The test material: $CHORD_SHARED (set by scripts/run_tests.sh) or the repository (models/, vocab/).
export const SHARED = (process.env.CHORD_SHARED ? path.resolve(process.env.CHORD_SHARED) : path.resolve(repo));
export const MODEL = path.join(SHARED, 'models/stories260K.gguf');
export const hasModel = fs.existsSync(MODEL);
export const SKIP_MODEL = hasModel ? false : `SKIP: ${MODEL} not present`;

const buildDir = process.env.BUILD ? path.resolve(repo, process.env.BUILD) : path.join(repo, 'build');
export const WASM_DIR = process.env.WASM_CHORD_WASM_DIR ?? path.join(buildDir, 'wasm');
export const wasmBase = pathToFileURL(WASM_DIR + '/').href;
export const hasWasm = fs.existsSync(path.join(WASM_DIR, 'chord-wasm32.wasm'));
export const NATIVE_CLI = path.join(buildDir, 'wasm-chord');

// stories260K's greedy story (model card, temperature 0).
export const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.';

export const memory64 = WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 4, 1]));

// ---- a minimal GGUF writer (v3) ----------------------------------------------------------------

const enc = new TextEncoder();
class W {
    constructor() { this.parts = []; }
    u32(x) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, x, true); this.parts.push(b); }
    u64(x) { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(x), true); this.parts.push(b); }
    f32(x) { const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, x, true); this.parts.push(b); }
    str(s) { const b = enc.encode(s); this.u64(b.length); this.parts.push(b); }
    bytes() {
        const n = this.parts.reduce((a, b) => a + b.length, 0);
        const out = new Uint8Array(n);
        let o = 0;
        for (const p of this.parts) { out.set(p, o); o += p.length; }
        return out;
    }
}

/**
 * A GGUF file with llama metadata and the given tensors ({ name, dims, type }) whose data is
 * `dataBytes` zero bytes (so a header can claim a huge model while the file stays small).
 */
export function makeGguf({ meta = {}, tensors = [], dataBytes = 0 }) {
    const w = new W();
    w.parts.push(enc.encode('GGUF'));
    w.u32(3);
    w.u64(tensors.length);
    const entries = Object.entries(meta);
    w.u64(entries.length);
    for (const [k, v] of entries) {
        w.str(k);
        if (typeof v === 'string') { w.u32(8); w.str(v); }
        else if (Number.isInteger(v)) { w.u32(4); w.u32(v); }
        else if (typeof v === 'number') { w.u32(6); w.f32(v); }
        else if (Array.isArray(v)) { w.u32(9); w.u32(8); w.u64(v.length); for (const s of v) w.str(s); }
    }
    let off = 0;
    for (const t of tensors) {
        w.str(t.name);
        w.u32(t.dims.length);
        for (const d of t.dims) w.u64(d);
        w.u32(t.type ?? 0);
        w.u64(off);
        off += t.bytes !== undefined ? Math.ceil(t.bytes / 32) * 32 : 32;
    }
    const head = w.bytes();
    const pad = (32 - (head.length % 32)) % 32;
    const out = new Uint8Array(head.length + pad + dataBytes);
    out.set(head);
    return out;
}

/**
 * A 13B-shaped F16 llama (40 layers, 5120 wide, ~26 GB) as a sparse file: a real header and tensor
 * table, then a hole up to the end of the tensor data. Loading must fail the engine's memory plan
 * (read from the header) before any tensor byte is read. Returns the path; the caller removes it.
 */
export function hugeModelFile() {
    const E = 5120, F = 13824, V = 32000, L = 40;
    const t = (name, ne0, ne1, type = 1) => ({ name, dims: ne1 > 1 ? [ne0, ne1] : [ne0], type, bytes: ne0 * ne1 * (type === 1 ? 2 : 4) });
    const tensors = [t('token_embd.weight', E, V), t('output_norm.weight', E, 1, 0), t('output.weight', E, V)];
    for (let l = 0; l < L; l++) {
        tensors.push(t(`blk.${l}.attn_norm.weight`, E, 1, 0), t(`blk.${l}.attn_q.weight`, E, E), t(`blk.${l}.attn_k.weight`, E, E),
            t(`blk.${l}.attn_v.weight`, E, E), t(`blk.${l}.attn_output.weight`, E, E), t(`blk.${l}.ffn_norm.weight`, E, 1, 0),
            t(`blk.${l}.ffn_gate.weight`, E, F), t(`blk.${l}.ffn_up.weight`, E, F), t(`blk.${l}.ffn_down.weight`, F, E));
    }
    const head = makeGguf({
        meta: {
            'general.architecture': 'llama', 'general.name': 'huge',
            'llama.block_count': L, 'llama.embedding_length': E, 'llama.feed_forward_length': F,
            'llama.attention.head_count': 40, 'llama.attention.head_count_kv': 40,
            'llama.context_length': 4096, 'llama.attention.layer_norm_rms_epsilon': 1e-5,
            'tokenizer.ggml.model': 'llama', 'tokenizer.ggml.tokens': ['<unk>', '<s>', '</s>'],
        },
        tensors,
    });
    const total = head.length + tensors.reduce((a, x) => a + Math.ceil(x.bytes / 32) * 32, 0);
    const path = `${os.tmpdir()}/chord-huge-${process.pid}.gguf`;
    fs.writeFileSync(path, head);
    fs.truncateSync(path, total);
    return path;
}

/** Header of a 70B-shaped llama (80 layers, 8192 wide): its KV cache alone is over 16 GiB. */
export function hugeModelHeader() {
    return makeGguf({
        meta: {
            'general.architecture': 'llama', 'general.name': 'huge',
            'llama.block_count': 80, 'llama.embedding_length': 8192, 'llama.feed_forward_length': 28672,
            'llama.attention.head_count': 64, 'llama.attention.head_count_kv': 64,
            'llama.context_length': 4096, 'llama.vocab_size': 32000,
            'tokenizer.ggml.model': 'llama', 'tokenizer.ggml.tokens': ['<unk>', '<s>', '</s>'],
        },
        tensors: [{ name: 'token_embd.weight', dims: [8192, 32000], type: 0 }],
        dataBytes: 64,
    });
}

/**
 * A tiny llama GGUF (embd 16, 1 layer, context 64) with the given SPM tokens and all-zero
 * weights: every logit is equal, so greedy decoding repeats token 0 — a test chooses what is
 * generated by choosing token 0's bytes. tokens[1] / tokens[2] are BOS / EOS (control).
 * Tokens are Uint8Arrays or strings. The same shape as tests/tiny_model.h.
 */
export function tinyModel(tokens) {
    const E = 16, FF = 32, V = tokens.length, HD = 8;
    const w = new W();
    const kv = [];
    const u32 = (k, v) => kv.push([k, () => { w.u32(4); w.u32(v); }]);
    const f32 = (k, v) => kv.push([k, () => { w.u32(6); w.f32(v); }]);
    const str = (k, v) => kv.push([k, () => { w.u32(8); w.str(v); }]);
    str('general.architecture', 'llama');
    u32('llama.embedding_length', E); u32('llama.feed_forward_length', FF); u32('llama.block_count', 1);
    u32('llama.attention.head_count', 2); u32('llama.attention.head_count_kv', 1);
    u32('llama.context_length', 64); u32('llama.rope.dimension_count', HD);
    f32('llama.attention.layer_norm_rms_epsilon', 1e-5);
    str('tokenizer.ggml.model', 'llama');
    kv.push(['tokenizer.ggml.tokens', () => {
        w.u32(9); w.u32(8); w.u64(V);
        for (const t of tokens) { const b = typeof t === 'string' ? enc.encode(t) : t; w.u64(b.length); w.parts.push(b); }
    }]);
    kv.push(['tokenizer.ggml.scores', () => { w.u32(9); w.u32(6); w.u64(V); for (let i = 0; i < V; i++) w.f32(-i); }]);
    kv.push(['tokenizer.ggml.token_type', () => {
        w.u32(9); w.u32(5); w.u64(V); for (let i = 0; i < V; i++) w.u32(i === 1 || i === 2 ? 3 : 1);
    }]);
    u32('tokenizer.ggml.bos_token_id', 1); u32('tokenizer.ggml.eos_token_id', 2);
    const tensors = [
        ['token_embd.weight', [E, V]], ['output_norm.weight', [E]], ['output.weight', [E, V]],
        ['blk.0.attn_norm.weight', [E]], ['blk.0.attn_q.weight', [E, E]], ['blk.0.attn_k.weight', [E, HD]],
        ['blk.0.attn_v.weight', [E, HD]], ['blk.0.attn_output.weight', [E, E]], ['blk.0.ffn_norm.weight', [E]],
        ['blk.0.ffn_gate.weight', [E, FF]], ['blk.0.ffn_up.weight', [E, FF]], ['blk.0.ffn_down.weight', [FF, E]],
    ];
    w.parts.push(enc.encode('GGUF')); w.u32(3); w.u64(tensors.length); w.u64(kv.length);
    for (const [k, put] of kv) { w.str(k); put(); }
    let off = 0;
    const offs = [];
    for (const [name, dims] of tensors) {
        w.str(name); w.u32(dims.length); for (const d of dims) w.u64(d); w.u32(0); w.u64(off);
        offs.push(off);
        off += Math.ceil((dims.reduce((a, b) => a * b, 1) * 4) / 32) * 32;
    }
    const head = w.bytes();
    const start = Math.ceil(head.length / 32) * 32;
    const out = new Uint8Array(start + off);
    out.set(head);
    // Norm weights 1, as in tests/tiny_model.h (the logits stay all zero either way).
    const dv = new DataView(out.buffer);
    tensors.forEach(([, dims], i) => {
        if (dims.length === 1) for (let j = 0; j < dims[0]; j++) dv.setFloat32(start + offs[i] + j * 4, 1, true);
    });
    return out;
}

/** Asserts that `promise` rejects with a ChordError of `code` (and a message matching `re`). */
export async function expectChordError(promise, code, re) {
    await assert.rejects(promise, (e) => {
        assert.ok(e instanceof ChordError, `expected ChordError, got ${e?.constructor?.name}: ${e?.message}`);
        assert.equal(e.code, code, `code of: ${e.message}`);
        if (re) assert.match(e.message, re);
        return true;
    });
}

/** The native CLI's first n greedy ids of stories260K from an empty prompt (null when the CLI
 * is not built); computed once per n. */
const nativeCache = new Map();
export function nativeTokens(n) {
    if (!nativeCache.has(n) && fs.existsSync(NATIVE_CLI)) {
        const out = execFileSync(NATIVE_CLI, ['run', '-m', MODEL, '-p', '', '-n', String(n), '--temp', '0', '--json'],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        nativeCache.set(n, JSON.parse(out.trim().split('\n').pop()).tokens);
    }
    return nativeCache.get(n) ?? null;
}

/** The first n greedy ids a model generates from an empty prompt (the flush call, token -1, left out). */
export async function greedyTokens(model, n) {
    const t = [];
    for await (const p of model.generate('', { temperature: 0, maxTokens: n })) if (p.token >= 0) t.push(p.token);
    return t;
}
