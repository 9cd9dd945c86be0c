// engine.test.mjs — node --test suite for the wasm engine layer (js/src/core.js over the builds
// of mk/wasm.mk). Environment: CHORD_WASM_DIR (default build/wasm), CHORD_MODEL (default
// models/stories260K.gguf), CHORD_NATIVE_JSON (optional: the native CLI's --json
// output for the same greedy run, whose token ids every build must reproduce).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEngine, ChordError } from '../../js/src/core.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const wasmDir = path.resolve(root, process.env.CHORD_WASM_DIR ?? 'build/wasm');
const modelPath = path.resolve(root, process.env.CHORD_MODEL ?? path.join(process.env.CHORD_SHARED ?? '.', 'models/stories260K.gguf'));
const haveModel = fs.existsSync(modelPath);
const N = Number(process.env.CHORD_N ?? 64);
const native = process.env.CHORD_NATIVE_JSON ? JSON.parse(fs.readFileSync(process.env.CHORD_NATIVE_JSON, 'utf8')) : null;
const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.';

function runBuild(file, threads) {
    const flags = /wasm64/.test(file) ? ['--experimental-wasm-memory64'] : [];
    const out = execFileSync(process.execPath, [...flags, path.join(here, 'run_engine.mjs'), path.join(wasmDir, file),
        modelPath, String(threads), String(N)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').pop());
}

// the relaxed builds too: under Node 20 createEngine turns on V8's relaxed-SIMD flag (core.js)
for (const file of ['chord-wasm32.wasm', 'chord-wasm64.wasm', 'chord-wasm32-relaxed.wasm', 'chord-wasm64-relaxed.wasm']) {
    for (const threads of [1, 2]) {
        test(`${file} ${threads} thread(s): greedy tokens`, { skip: !haveModel && `SKIP: ${modelPath} not found` }, () => {
            const r = runBuild(file, threads);
            assert.equal(r.threads, threads);
            assert.equal(r.status, 'ok');
            assert.equal(r.tokens.length, N);
            if (native) assert.deepEqual(r.tokens, native.tokens, 'token ids differ from the native build');
            else assert.ok(r.text.trimStart().startsWith(STORY.slice(0, Math.min(STORY.length, 60))), r.text);
        });
    }
}

test('WASI CLI under node:wasi: greedy tokens', { skip: !haveModel && 'SKIP: no model' }, () => {
    const out = execFileSync(process.execPath, [path.join(here, 'wasi_run.mjs'), path.join(wasmDir, 'wasm-chord-wasi.wasm'),
        'run', '-m', modelPath, '-p', '', '-n', String(N), '--temp', '0', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const r = JSON.parse(out);
    assert.equal(r.tokens.length, N);
    if (native) assert.deepEqual(r.tokens, native.tokens, 'token ids differ from the native build');
    else assert.ok(r.text.trimStart().startsWith('Once upon a time'), r.text);
});

test('loading and freeing a model 20 times does not grow memory', { skip: !haveModel && 'SKIP: no model' }, async () => {
    const engine = await createEngine({ wasm: path.join(wasmDir, 'chord-wasm32.wasm') });
    try {
        const bytes = fs.readFileSync(modelPath);
        let first = null, used0 = engine.heapStats().used;
        for (let i = 0; i < 20; i++) {
            const loader = engine.beginLoad(bytes.length);
            loader.write(bytes);
            const model = loader.finishLoad();
            const s = model.newSession({ nCtx: 128 });
            s.feed(model.tokenize('Once'));
            s.dispose();
            model.dispose();
            const h = engine.heapStats();
            if (i === 0) first = h.memoryBytes;
            assert.equal(h.memoryBytes, first, `memory grew on load ${i + 1}`);
            assert.equal(h.used, used0, `heap bytes leaked on load ${i + 1}`);
        }
    } finally { engine.dispose(); }
});

test('errors: malformed file, truncated stream, too-big model', { skip: !haveModel && 'SKIP: no model' }, async () => {
    const engine = await createEngine({ wasm: path.join(wasmDir, 'chord-wasm32.wasm') });
    try {
        const bytes = fs.readFileSync(modelPath);
        const bad = Uint8Array.from(bytes.subarray(0, 4096));
        bad[0] = 0x58; // not "GGUF"
        let l = engine.beginLoad(bad.length);
        l.write(bad);
        assert.throws(() => l.finishLoad(), (e) => e instanceof ChordError && e.code === 'format' && /magic|GGUF/i.test(e.message));
        const cut = bytes.subarray(0, 2000);
        l = engine.beginLoad(cut.length);
        l.write(cut);
        assert.throws(() => l.finishLoad(), (e) => e instanceof ChordError && ['format', 'io'].includes(e.code));
        l = engine.beginLoad(100);
        l.write(bytes.subarray(0, 50));
        assert.throws(() => l.finishLoad(), (e) => e.code === 'io' && /50 of 100/.test(e.message));
        assert.throws(() => engine.beginLoad(5 * 2 ** 30), (e) => e.code === 'nomem' && /does not fit/.test(e.message));
        const used = engine.heapStats().used;
        assert.ok(used < 1 << 20, `failed loads left ${used} bytes allocated`);
    } finally { engine.dispose(); }
});

// Kernel shapes per JS engine (chord_wasm_set_tuning; the token tables above and in t_wasm.sh run
// Node 20 with the rolled Q4_K/Q5_K decode loop, Chromium with the unrolled one).
test('kernel tuning: named in buildInfo; an unknown bit is unsupported', async () => {
    const wasm = path.join(wasmDir, 'chord-wasm32-relaxed.wasm');
    for (const tuning of [0, 1]) {
        const engine = await createEngine({ wasm, tuning });
        try { assert.deepEqual(engine.buildInfo.tuning, tuning ? ['rolled-k45'] : []); } finally { engine.dispose(); }
    }
    await assert.rejects(createEngine({ wasm, tuning: 2 }), (e) => e.code === 'unsupported' && /tuning 2/.test(e.message) && /rolled-k45/.test(e.message));
});

test('tokenize / detokenize / streaming detok / cancel word', { skip: !haveModel && 'SKIP: no model' }, async () => {
    const engine = await createEngine({ wasm: path.join(wasmDir, 'chord-wasm32.wasm') });
    try {
        const bytes = fs.readFileSync(modelPath);
        const l = engine.beginLoad(bytes.length);
        l.write(bytes);
        const model = l.finishLoad();
        assert.equal(model.info.arch, 'llama');
        assert.equal(model.info.n_vocab, 512);
        const ids = model.tokenize('Once upon a time', { addSpecial: true });
        assert.equal(ids[0], model.info.bos);
        assert.equal(model.detokenize(ids.subarray(1)).trim(), 'Once upon a time');
        const d = model.newDetok();
        let s = '';
        for (const t of ids.subarray(1)) s += d.push(t);
        s += d.flush();
        d.dispose();
        assert.equal(s.trim(), 'Once upon a time');
        const session = model.newSession({ nCtx: 256 });
        session.feed(ids);
        const sampler = engine.newSampler({ temperature: 0 });
        let n = 0;
        const r = session.generate(sampler, 50, () => { if (++n === 5) session.cancel(); return false; });
        assert.equal(r.status, 'cancelled');
        assert.equal(r.tokens, 5);
        const r2 = session.generate(sampler, 3, () => false); // usable afterwards
        assert.equal(r2.status, 'ok');
        session.cancel(); // nothing runs: the request must not stop the next call (issue 14)
        const r3 = session.generate(sampler, 3, () => false);
        assert.equal(r3.status, 'ok');
        assert.equal(r3.tokens, 3);
        // an id out of range is an error, not a "buffer too small" retry that ends in ""
        assert.throws(() => model.detokenize([1, 99999, -1]), (e) => e.code === 'range' && /99999/.test(e.message));
        assert.throws(() => engine.newSampler({ temperature: -1 }), (e) => e.code === 'invalid_arg');
        assert.throws(() => session.feed([100000]), (e) => e.code === 'range');
        sampler.dispose(); session.dispose(); model.dispose();
    } finally { engine.dispose(); }
});

const kernelTests = fs.existsSync(wasmDir) ? fs.readdirSync(wasmDir).filter((f) => /^test-quant-wasm(32|64)(-relaxed)?\.wasm$/.test(f)) : [];
for (const file of kernelTests) {
    test(`simd128 kernels vs scalar reference (${file})`, () => {
        const flags = /wasm64/.test(file) ? ['--experimental-wasm-memory64'] : [];
        const out = execFileSync(process.execPath, [...flags, path.join(here, 'run_kernels.mjs'), path.join(wasmDir, file)],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const r = JSON.parse(out.trim().split('\n').pop());
        assert.equal(r.failures, 0, JSON.stringify(r));
        assert.ok(r.checks > 0);
    });
}

test('model from a host read function (env.chord_host_read) gives the same tokens', { skip: !haveModel && 'SKIP: no model' }, async () => {
    const bytes = fs.readFileSync(modelPath);
    let reads = 0;
    const engine = await createEngine({
        wasm: path.join(wasmDir, 'chord-wasm32.wasm'),
        hostRead: (handle, off, dst) => {
            if (handle !== 7) return 2;
            reads++;
            dst.set(bytes.subarray(off, off + dst.length));
            return 0;
        },
    });
    try {
        const gen = (model) => {
            const s = model.newSession({ nCtx: 128 });
            s.feed(model.tokenize(''));
            const smp = engine.newSampler({ temperature: 0 });
            const toks = [];
            s.generate(smp, 24, (t) => { toks.push(t); });
            smp.dispose(); s.dispose();
            return toks;
        };
        const hm = engine.openHostModel(7, bytes.length);
        assert.ok(reads > 0);
        const viaHost = gen(hm);
        hm.dispose();
        const l = engine.beginLoad(bytes.length);
        l.write(bytes);
        const mm = l.finishLoad();
        assert.deepEqual(viaHost, gen(mm));
        mm.dispose();
        assert.throws(() => engine.openHostModel(8, bytes.length), (e) => e instanceof ChordError && e.code === 'io');
    } finally { engine.dispose(); }
});
