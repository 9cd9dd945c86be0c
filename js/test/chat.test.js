// chat.test.js — model.chat() and the Node CLI's `chat`, on stories260K with a ChatML template
// (tests/data/chat/chatml.jinja): the prompt text of each turn equals Python jinja2's rendering
// (python3-jinja2, as Hugging Face's apply_chat_template), the greedy answers equal the native
// `wasm-chord run` on that text, the second turn reuses the KV cache (prefills only its new
// tokens), and bad input is a ChordError.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { loadModel, ChordError } from '../src/index.js';
import { MODEL, SKIP_MODEL, hasWasm, wasmBase, WASM_DIR, NATIVE_CLI, repo } from './helpers.js';

const TPL_FILE = path.join(repo, 'tests/data/chat/chatml.jinja');
const TPL = fs.readFileSync(TPL_FILE, 'utf8');
const jinja = spawnSync('python3', ['-c', 'import jinja2']).status === 0;
const skip = SKIP_MODEL || (!hasWasm && 'SKIP: wasm builds not found (make wasm)') ||
    (!jinja && 'SKIP: python3-jinja2 missing') || (!fs.existsSync(NATIVE_CLI) && 'SKIP: native CLI not built');
const GREEDY = { template: TPL, temperature: 0, maxTokens: 24 };

// jinja2's rendering, the reference (trim_blocks/lstrip_blocks as transformers sets them).
function jinjaRender(messages) {
    return execFileSync('python3', ['-c', `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
t = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(open(sys.argv[1]).read())
sys.stdout.write(t.render(messages=json.loads(sys.argv[2]), add_generation_prompt=True))`, TPL_FILE, JSON.stringify(messages)],
    { encoding: 'utf8' });
}

function nativeRun(prompt, n) {
    return JSON.parse(execFileSync(NATIVE_CLI, ['run', '-m', MODEL, '-p', prompt, '-n', String(n), '--temp', '0', '--json'], { encoding: 'utf8' }));
}

async function answer(model, messages, opts = GREEDY) {
    let text = '';
    for await (const p of model.chat(messages, opts)) text += p.text;
    return text;
}

test('chat: two turns render like jinja2, answer like native run, reuse the cache', { skip }, async () => {
    const model = await loadModel(MODEL, { wasmBase, threads: 1 });
    try {
        const msgs = [{ role: 'system', content: 'You are a storyteller.' }, { role: 'user', content: 'Tell me about a cat. ✓' }];
        const a1 = await answer(model, msgs);
        const g1 = model.lastGeneration;
        assert.equal(g1.rendered, jinjaRender(msgs));
        const n1 = nativeRun(g1.rendered, 24);
        assert.deepEqual(g1.promptTokens, n1.prompt_tokens);
        assert.deepEqual(g1.tokens, n1.tokens);
        assert.equal(a1, n1.text);
        assert.equal(g1.reusedTokens, 0);

        msgs.push({ role: 'assistant', content: a1 }, { role: 'user', content: 'What did the cat do next?' });
        const a2 = await answer(model, msgs);
        const g2 = model.lastGeneration;
        assert.equal(g2.rendered, jinjaRender(msgs));
        const n2 = nativeRun(g2.rendered, 24);
        assert.deepEqual(g2.tokens, n2.tokens, 'turn 2 over the reused cache = a fresh native run');
        assert.equal(a2, n2.text);
        assert.ok(g2.reusedTokens > g1.promptTokens.length, `reused ${g2.reusedTokens} tokens`);
        assert.equal(g2.stats.n_prefill, g2.promptTokens.length - g2.reusedTokens, 'only the new tokens are prefilled');

        // a plain generate() in between replaces the cache: chat() then shares only the BOS with it
        for await (const _ of model.generate('Once', { maxTokens: 2, temperature: 0 })) { /* drain */ }
        assert.equal(await answer(model, msgs), a2);
        assert.equal(model.lastGeneration.reusedTokens, 1);
    } finally {
        await model.dispose();
    }
});

test('chat: bad input is a ChordError', { skip }, async () => {
    const model = await loadModel(MODEL, { wasmBase, threads: 1 });
    try {
        const bad = async (messages, opts, code, re) => {
            await assert.rejects(answer(model, messages, opts), (e) => {
                assert.ok(e instanceof ChordError, String(e));
                assert.equal(e.code, code, e.message);
                if (re) assert.match(e.message, re);
                return true;
            });
        };
        await bad([], GREEDY, 'invalid_arg', /non-empty array/);
        await bad([{ content: 'hi' }], GREEDY, 'invalid_arg', /role/);
        await bad([{ role: 'user', content: 5 }], GREEDY, 'invalid_arg', /content/);
        await bad([{ role: 'user', content: 'hi' }], { ...GREEDY, template: '{% for x in %}' }, 'format', /line 1/);
        await bad([{ role: 'user', content: 'hi' }], { ...GREEDY, template: "{{ raise_exception('no users here') }}" }, 'format', /no users here/);
        // the model still answers afterwards
        assert.ok((await answer(model, [{ role: 'user', content: 'hi' }])).length > 0);
    } finally {
        await model.dispose();
    }
});

test('node CLI: chat over piped stdin, two turns and /stats', { skip }, () => {
    const cli = path.join(repo, 'js/bin/wasm-chord.js');
    const u1 = 'Tell me about a cat.';
    const out = execFileSync(process.execPath, [cli, 'chat', '-m', MODEL, '--chat-template', TPL_FILE, '--temp', '0', '-n', '24',
        '-t', '1', '--wasm-dir', WASM_DIR], { input: `${u1}\n/stats\nAnd then?\n/stats\n`, encoding: 'utf8' });
    const first = nativeRun(jinjaRender([{ role: 'user', content: u1 }]), 24).text;
    assert.ok(out.startsWith(first), `${JSON.stringify(out.slice(0, 200))} should start with ${JSON.stringify(first)}`);
    const stats = [...out.matchAll(/prompt (\d+) tokens = (\d+) reused from the cache \+ (\d+) prefilled/g)];
    assert.equal(stats.length, 2);
    assert.equal(Number(stats[0][2]), 0);
    assert.ok(Number(stats[1][2]) > 0 && Number(stats[1][3]) < Number(stats[1][1]), out);
});
