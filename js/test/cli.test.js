// cli.test.js — the Node CLI (js/bin/wasm-chord.js): --json has the native CLI's fields and the
// same tokens on every --build (wasm32, wasm64 when Memory64 is available, wasi) and natively.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { MODEL, SKIP_MODEL, hasWasm, WASM_DIR, NATIVE_CLI, repo } from './helpers.js';

const CLI = path.join(repo, 'js/bin/wasm-chord.js');
const skip = SKIP_MODEL || (hasWasm ? false : 'SKIP: wasm builds not found (make wasm)');
const ARGS = ['-m', MODEL, '-p', 'Lily', '-n', '24', '--temp', '0', '-t', '1', '--json'];

function cli(...args) {
    const r = spawnSync(process.execPath, [CLI, ...args, '--wasm-dir', WASM_DIR], { encoding: 'utf8', timeout: 60000 });
    return r;
}

let wasm32 = null;

test('--json object (wasm32)', { skip }, () => {
    const r = cli('run', ...ARGS, '--build', 'wasm32');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    for (const k of ['prompt_tokens', 'tokens', 'text', 'timings', 'peak_memory_bytes']) assert.ok(k in j, `field ${k}`);
    for (const k of ['load_ms', 'prefill_tok_s', 'decode_tok_s']) assert.equal(typeof j.timings[k], 'number', `timings.${k}`);
    assert.equal(j.tokens.length, 24);
    assert.equal(j.build, 'wasm32');
    assert.ok(j.text.length > 0);
    wasm32 = j;
});

test('same tokens with 2 threads, wasm64 and WASI', { skip }, () => {
    const two = JSON.parse(cli('run', ...ARGS.slice(0, -3), '-t', '2', '--json', '--build', 'wasm32').stdout);
    assert.deepEqual(two.tokens, wasm32.tokens, '2 threads');
    // wasm64: the CLI re-runs node with --experimental-wasm-memory64 when it has to.
    const r64 = cli('run', ...ARGS, '--build', 'wasm64');
    assert.equal(r64.status, 0, r64.stderr);
    const j64 = JSON.parse(r64.stdout);
    assert.equal(j64.build, 'wasm64');
    assert.deepEqual(j64.tokens, wasm32.tokens, 'wasm64');
    if (fs.existsSync(path.join(WASM_DIR, 'wasm-chord-wasi.wasm'))) {
        const rw = cli('run', ...ARGS, '--build', 'wasi');
        assert.equal(rw.status, 0, rw.stderr);
        assert.deepEqual(JSON.parse(rw.stdout).tokens, wasm32.tokens, 'wasi');
    }
});

test('same --json as the native CLI', { skip: skip || (!fs.existsSync(NATIVE_CLI) && `SKIP: ${NATIVE_CLI} not built`) }, () => {
    const native = JSON.parse(execFileSync(NATIVE_CLI, ['run', ...ARGS], { encoding: 'utf8' }));
    assert.deepEqual(wasm32.tokens, native.tokens);
    assert.deepEqual(wasm32.prompt_tokens, native.prompt_tokens);
    assert.equal(wasm32.text, native.text);
    for (const k of Object.keys(native)) assert.ok(k in wasm32, `native field ${k} present`);
});

test('bad arguments exit non-zero with a one-line error', () => {
    let r = cli('run', '-m', MODEL, '-n', 'many');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^wasm-chord: error: option -n: 'many' is not an integer\n$/);
    r = cli('run', '-p', 'x');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /missing -m/);
    r = cli('run', '-m', MODEL, '--build', 'wasm16');
    assert.equal(r.status, 2);
    r = cli('frobnicate');
    assert.equal(r.status, 2);
    r = cli('run', '-m', '/nonexistent.gguf');
    if (hasWasm) {
        assert.equal(r.status, 1);
        assert.match(r.stderr, /nonexistent\.gguf.*\[io\]/);
    }
    r = cli('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--build B/);
});
