// hardening.test.js — issue 14's JS failures through the public API: the model's request
// queue cannot lock up (a dropped iterator releases it when collected, return() releases it,
// interleaved calls fail 'busy' at once instead of waiting forever, calls issued while the
// model is idle are truly queued), dispose() rejects what is queued and stops what runs, a
// token id out of range is an error (not ""), and a long token's text is never lost.
// Run with --expose-gc (tests/t_js.sh does) for the finalization test.

import test from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, ChordError } from '../src/index.js';
import { MODEL, SKIP_MODEL, hasWasm, wasmBase, tinyModel } from './helpers.js';

const skip = SKIP_MODEL || (hasWasm ? false : 'SKIP: wasm builds not found (make wasm)');
// A hang detector, not a speed check: the limits are far above what any of these calls takes on
// a busy machine (milliseconds), so only a lock-up fails.
const within = (p, ms, what) => {
    let timer;
    const limit = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: still pending after ${ms} ms`)), ms); });
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
};

async function rejectsWith(p, code, re) {
    await assert.rejects(p, (e) => {
        assert.ok(e instanceof ChordError, `expected ChordError, got ${e?.constructor?.name}: ${e?.message}`);
        assert.equal(e.code, code, `code of: ${e.message}`);
        if (re) assert.match(e.message, re);
        return true;
    });
}

for (const threads of [1, 2]) {
    test(`interleaved generations fail 'busy' at once, the first goes on (threads ${threads})`, { skip }, async () => {
        const model = await loadModel(MODEL, { wasmBase, threads });
        try {
            const a = model.generate('', { temperature: 0, maxTokens: 12 });
            const first = await a.next();
            assert.equal(first.done, false);
            const b = model.generate('', { temperature: 0, maxTokens: 12 });
            await within(rejectsWith(b.next(), 'busy', /generating/), 60000, 'second generate');
            await within(rejectsWith(model.tokenize('x'), 'busy'), 60000, 'tokenize');
            await within(rejectsWith(model.detokenize([1]), 'busy'), 60000, 'detokenize');
            let n = 1;
            for (let r = await a.next(); !r.done; r = await a.next()) n++;
            assert.ok(n >= 12, `first generation yielded ${n} pieces`);
            assert.equal(model.lastGeneration.status, 'ok');
            assert.deepEqual(Array.from(await within(model.tokenize('Once'), 60000, 'tokenize after')), [1, 403]);
        } finally { await model.dispose(); }
    });
}

test('calls issued while the model is idle are queued in order', { skip }, async () => {
    const model = await loadModel(MODEL, { wasmBase, threads: 1 });
    try {
        const t = model.tokenize('Once upon a time');
        const d = model.detokenize([403, 407]);
        const gen = (async () => { const out = []; for await (const p of model.generate('', { temperature: 0, maxTokens: 8 })) out.push(p.token); return out; })();
        const [ids, text, toks] = await within(Promise.all([t, d, gen]), 120000, 'queued calls');
        assert.deepEqual(Array.from(ids).slice(0, 2), [1, 403]);
        assert.equal(text.trim(), 'Once upon');
        assert.equal(toks.length, 8);
    } finally { await model.dispose(); }
});

test('return() on an iterator taken one step releases the model', { skip }, async () => {
    const model = await loadModel(MODEL, { wasmBase, threads: 1 });
    try {
        const it = model.generate('', { temperature: 0, maxTokens: 200 });
        await it.next();
        assert.deepEqual(await it.return(), { done: true, value: undefined });
        assert.equal(model.lastGeneration.status, 'cancelled');
        assert.ok(model.lastGeneration.tokens.length < 200);
        assert.equal((await within(model.tokenize('Once'), 60000, 'tokenize after return()')).length, 2);
        assert.deepEqual(await it.next(), { done: true, value: undefined });
    } finally { await model.dispose(); }
});

test('an iterator taken one step and dropped releases the model when collected', { skip: skip || (typeof globalThis.gc !== 'function' && 'SKIP: run node with --expose-gc') }, async () => {
    const model = await loadModel(MODEL, { wasmBase, threads: 1 });
    try {
        await (async () => { const it = model.generate('', { temperature: 0, maxTokens: 500 }); await it.next(); })();
        // The iterator is unreachable now; without the lease every later call would pend forever.
        let ids = null;
        for (let i = 0; i < 200 && !ids; i++) {
            globalThis.gc();
            await new Promise((r) => setTimeout(r, 10));
            try { ids = await model.tokenize('Once'); } catch (e) { assert.equal(e.code, 'busy'); }
        }
        assert.ok(ids, 'the model was never released');
        assert.equal(ids.length, 2);
        assert.ok(model.lastGeneration.tokens.length < 500);
    } finally { await model.dispose(); }
});

test('dispose() rejects queued calls and stops a running generation', { skip }, async () => {
    let model = await loadModel(MODEL, { wasmBase, threads: 1 });
    const queued = [model.tokenize('a'), model.tokenize('b'), model.detokenize([403])]
        .map((p) => p.then(() => 'resolved', (e) => e.code));
    await model.dispose();
    assert.deepEqual(await Promise.all(queued), ['disposed', 'disposed', 'disposed']);
    await rejectsWith(model.tokenize('c'), 'disposed');

    model = await loadModel(MODEL, { wasmBase, threads: 1 });
    const it = model.generate('', { temperature: 0, maxTokens: 400, ignoreEos: true });
    let n = 0;
    await assert.rejects((async () => {
        for (let r = await it.next(); !r.done; r = await it.next()) {
            if (++n === 3) await within(model.dispose(), 60000, 'dispose during generation');
        }
    })(), (e) => e.code === 'disposed');
    assert.ok(n >= 3 && n < 10, `yielded ${n} pieces after dispose`);
});

test('detokenize([1, 99999, -1]) is a range error, not ""', { skip }, async () => {
    const model = await loadModel(MODEL, { wasmBase, threads: 1 });
    try {
        await rejectsWith(model.detokenize([1, 99999, -1]), 'range', /99999/);
        assert.equal((await model.detokenize([403])).trim(), 'Once');
    } finally { await model.dispose(); }
});

test('a long token streams whole: the text equals detokenize', { skip: hasWasm ? false : 'SKIP: no wasm' }, async () => {
    // Token 0: 150 invalid bytes (450 bytes of U+FFFD once decoded) and a letter; it used to
    // stream as "" through a 320-byte buffer.
    const long = new Uint8Array(151).fill(0xc0);
    long[150] = 0x7a;
    const model = await loadModel(tinyModel([long, '<s>', '</s>', 'a']), { wasmBase, threads: 1 });
    try {
        let text = '';
        const tokens = [];
        for await (const p of model.generate('', { temperature: 0, maxTokens: 3 })) { text += p.text; if (p.token >= 0) tokens.push(p.token); }
        assert.deepEqual(tokens, [0, 0, 0]);
        const want = await model.detokenize(tokens);
        assert.equal(text.length, want.length);
        assert.equal(text, want);
        assert.equal(text.length, 3 * 151);
    } finally { await model.dispose(); }
});
