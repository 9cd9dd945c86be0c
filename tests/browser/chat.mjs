// chat.mjs — the demo page chats in headless Chromium with a ChatML-template model: stories260K
// with tests/data/chat/chatml.jinja as its tokenizer.chat_template (gguf_with_kv.mjs). Two turns
// with a system message; for each, the prompt the page sent (data-prompt, from model.chat) must
// equal Python jinja2's rendering of the conversation, and the answer the native `wasm-chord run`
// on that text (greedy). The second turn must reuse the first turn's KV cache. wasm32 and wasm64.
//
//   BUILD=build node tests/browser/chat.mjs     exit 0 = pass; SKIP when a prerequisite is absent

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { launch, startServer, repo } from './chromium.mjs';
import { withStringKv } from './gguf_with_kv.mjs';

const SHARED = (process.env.CHORD_SHARED ? path.resolve(process.env.CHORD_SHARED) : path.resolve(repo));
const BASE_MODEL = path.join(SHARED, 'models/stories260K.gguf');
const TPL_FILE = path.join(repo, 'tests/data/chat/chatml.jinja');
const buildDir = process.env.BUILD ?? 'build';
const NATIVE = path.join(repo, buildDir, 'wasm-chord');
const N = 24;

for (const [ok, why] of [[fs.existsSync(BASE_MODEL), `${BASE_MODEL} not present`], [fs.existsSync(NATIVE), `${NATIVE} not built`],
                         [spawnSync('python3', ['-c', 'import jinja2']).status === 0, 'python3-jinja2 missing']])
    if (!ok) { console.log(`SKIP: ${why}`); process.exit(0); }

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chord-chat-'));
const MODEL = path.join(tmp, 'stories260K-chatml.gguf');
fs.writeFileSync(MODEL, withStringKv(fs.readFileSync(BASE_MODEL), 'tokenizer.chat_template', fs.readFileSync(TPL_FILE, 'utf8')));

const jinja = (messages) => execFileSync('python3', ['-c', `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
t = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(open(sys.argv[1]).read())
sys.stdout.write(t.render(messages=json.loads(sys.argv[2]), add_generation_prompt=True))`, TPL_FILE, JSON.stringify(messages)], { encoding: 'utf8' });
const native = (prompt) => JSON.parse(execFileSync(NATIVE, ['run', '-m', MODEL, '-p', prompt, '-n', String(N), '--temp', '0', '--json'], { encoding: 'utf8' }));
const log = (s) => console.log(`  ${s}`);
const wasmQuery = buildDir === 'build' ? '' : `?wasm=/${buildDir}/wasm/`;

async function send(page, text) {
    const n = await page.locator('.msg.bot').count();
    await page.fill('#prompt', text);
    await page.click('#generate');
    await page.waitForFunction((i) => document.querySelectorAll('.msg.bot')[i]?.dataset.status, n, { timeout: 60000 });
    const bot = page.locator('.msg.bot').nth(n);
    return { text: await bot.textContent(), status: await bot.getAttribute('data-status'),
             prompt: await bot.getAttribute('data-prompt'), reused: Number(await bot.getAttribute('data-reused')) };
}

const srv = await startServer();
const browser = await launch();
let failed = false;
try {
    const page = await browser.page();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${srv.url}web/${wasmQuery}`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    for (const build of ['wasm32', 'wasm64']) {
        await page.click('#clear');
        await page.selectOption('#build', build);
        await page.setInputFiles('#file', []);
        await page.setInputFiles('#file', MODEL);
        await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 60000 });
        assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready', await page.textContent('#status'));
        assert.equal(await page.inputValue('#mode'), 'chat', 'a model with a chat template opens in chat mode');
        assert.match(await page.textContent('#template-note'), /own chat template/);
        await page.fill('#temp', '0');
        await page.fill('#max-tokens', String(N));
        await page.fill('#system', 'You are a storyteller.');

        const msgs = [{ role: 'system', content: 'You are a storyteller.' }, { role: 'user', content: 'Tell me about a cat.' }];
        const t1 = await send(page, msgs[1].content);
        assert.equal(t1.status, 'ok');
        assert.equal(t1.prompt, jinja(msgs), 'turn 1: the text sent = jinja2\'s rendering');
        assert.equal(t1.text, native(t1.prompt).text, 'turn 1: the answer = native run on that text');
        msgs.push({ role: 'assistant', content: t1.text }, { role: 'user', content: 'What did the cat do next? ✓' });
        const t2 = await send(page, msgs[3].content);
        assert.equal(t2.prompt, jinja(msgs), 'turn 2: the text sent = jinja2\'s rendering');
        assert.equal(t2.text, native(t2.prompt).text, 'turn 2: the answer = native run on that text');
        assert.ok(t2.reused > 0, `turn 2 reused the cache (${t2.reused} tokens)`);
        log(`${build}: 2 turns = jinja2 + native run; turn 2 reused ${t2.reused} cached tokens`);
    }
    assert.deepEqual(errors, [], 'no page errors');
    console.log('PASS demo page chat in Chromium');
} catch (e) {
    failed = true;
    console.log(`FAIL ${e.message}`);
} finally {
    await browser.close();
    await srv.close();
    fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
