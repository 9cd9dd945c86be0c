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

// The native CLI's memory flags (tools/cli/cli_mem.c) with the same meanings and errors.
test('paging flags: --cache-layers / --paged / --prefetch / --policy / --mem-budget / --preload give the native tokens', {
    skip: skip || (!fs.existsSync(NATIVE_CLI) && `SKIP: ${NATIVE_CLI} not built`) }, () => {
    const native = (...a) => JSON.parse(execFileSync(NATIVE_CLI, ['run', ...ARGS, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const run = (...a) => {
        const r = cli('run', ...ARGS, '--build', 'wasm32', ...a);
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout);
    };
    for (const threads of ['1', '2']) {
        const j = run('--cache-layers', '2', '-t', threads);
        const n = native('--cache-layers', '2', '-t', threads);
        assert.deepEqual(j.tokens, n.tokens, `--cache-layers 2 -t ${threads}`);
        assert.equal(j.cache.policy, 'paged-pin');
        assert.equal(j.cache.slots, 2);
        assert.equal(j.cache.misses, 1, 'the async prefetch read every layer after the first');
        assert.ok(j.cache.prefetch_hits > 0, JSON.stringify(j.cache));
        assert.equal(j.cache.prefetch_hits + j.cache.hits + j.cache.misses, n.cache.prefetch_hits + n.cache.hits + n.cache.misses);
    }
    const lru = run('--paged', '--cache-layers', '3', '--prefetch', '0', '--policy', 'lru');
    assert.deepEqual(lru.tokens, wasm32.tokens);
    assert.equal(lru.cache.policy, 'paged-lru');
    assert.equal(lru.cache.prefetch_hits, 0);
    assert.equal(lru.cache.hits, 0, 'LRU with fewer slots than layers on a cyclic scan');
    const pre = run('--cache-layers', '64', '--preload');
    assert.deepEqual(pre.tokens, wasm32.tokens);
    assert.equal(pre.cache.misses, 0, '--preload filled every slot');
    // --resident wins over an earlier --paged; --mem-budget big enough stays resident
    assert.equal(run('--paged', '--resident').cache.policy, 'resident');
    assert.equal(run('--mem-budget', '1G').cache.policy, 'resident');
    // a paged run prints the native one-line summary on stderr
    const plain = cli('run', ...ARGS.slice(0, -1), '--build', 'wasm32', '--cache-layers', '2');
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stderr, /wasm-chord: cache paged-pin: 2 slots \(0 pinned\) of 5 layers, hit rate .* prefetch hits.*stalled \d+ ms\n/);
    // the WASI build takes the same flags (the C CLI itself)
    if (fs.existsSync(path.join(WASM_DIR, 'wasm-chord-wasi.wasm'))) {
        const rw = cli('run', ...ARGS, '--build', 'wasi', '--cache-layers', '2');
        assert.equal(rw.status, 0, rw.stderr);
        assert.deepEqual(JSON.parse(rw.stdout).tokens, wasm32.tokens, 'wasi --cache-layers 2');
    }
});

test('paging flags: bad values and a budget too small fail as natively', { skip }, () => {
    for (const [flag, v] of [['--cache-layers', '0'], ['--cache-layers', 'x'], ['--mem-budget', '2X'], ['--mem-budget', '0'],
        ['--prefetch', '65'], ['--prefetch', '-1'], ['--policy', 'fifo']]) {
        const r = cli('run', '-m', MODEL, flag, v);
        assert.equal(r.status, 2, `${flag} ${v}`);
        assert.equal(r.stderr, `wasm-chord: error: bad value '${v}' for ${flag}\n`);
        if (fs.existsSync(NATIVE_CLI)) {
            const n = spawnSync(NATIVE_CLI, ['run', '-m', MODEL, flag, v], { encoding: 'utf8' });
            assert.equal(n.status, 2);
            assert.equal(n.stderr.replace(/^wasm-chord run: /, 'wasm-chord: '), r.stderr, 'the native error');
        }
    }
    // (cli() appends --wasm-dir, which would be taken as the value)
    const miss = spawnSync(process.execPath, [CLI, 'run', '-m', MODEL, '--cache-layers'], { encoding: 'utf8', timeout: 60000 });
    assert.equal(miss.status, 2);
    assert.equal(miss.stderr, 'wasm-chord: error: missing value after --cache-layers\n');
    const r = cli('run', '-m', MODEL, '-n', '4', '--build', 'wasm32', '--mem-budget', '100K');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /does not fit a memory budget of 0\.1 MiB even paged: model-wide tensors .* layer slots .*\[nomem\]/);
});
