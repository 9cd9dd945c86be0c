#!/usr/bin/env node
// wasm-chord.js — the Node CLI of the JS package: `npx wasm-chord run -m model.gguf -p "…"`,
// and `npx wasm-chord chat -m model.gguf [-sys "…"]`, a terminal chat through model.chat().
// Same flags and --json object as the native CLI (tools/cli/cli_run.c), plus --build to pick the
// WebAssembly build: wasm32 / wasm64 run through the package API (a worker with N threads),
// wasi runs the WASI CLI (wasm-chord-wasi.wasm) under node:wasi with the same arguments.

import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';

const HELP = `usage: wasm-chord run -m MODEL [options]
       wasm-chord chat -m MODEL [-sys TEXT] [--chat-template FILE] [options]

  -m, --model PATH       GGUF model file (or http(s) URL)
  -p, --prompt TEXT      prompt (BOS added as the model asks; default empty)
      --tokens "1 2 3"   prompt as token ids, used as given
  -n, --n-predict N      tokens to generate (default 128; -1 = until the context is full)
  -c, --ctx-size N       context length (default: min(trained, 4096))
  -t, --threads N        threads (default: all cores, at most 8)
  -b, --batch-size N     prompt tokens per forward pass (default 64)
      --temp X           temperature, 0 = greedy (default 0.8)
      --top-k N          (default 40; 0 = off)
      --top-p X          (default 0.95; 1 = off)
      --min-p X          (default 0.05; 0 = off)
      --repeat-penalty X (default 1.0 = off)
      --repeat-last-n N  window of the repetition penalty (default 64)
  -s, --seed N           sampling seed (default 0)
      --ignore-eos       never stop at end-of-generation
      --json             print one JSON object: prompt_tokens, tokens, text, timings, cache, peak_memory_bytes
      --logits-top K     with --json: top K logits of the first generated position
      --paged            keep model-wide tensors resident, layers in a cache of slots
      --resident         every tensor addressable (default: auto, by --mem-budget)
      --cache-layers N   layer slots (implies --paged)
      --mem-budget SIZE  bytes for weights + KV + scratch (512M, 2G; default: the build's address space)
      --prefetch D       layers read ahead while one computes (default 1)
      --policy pin|lru   slot policy (default pin: pin what fits, stream the rest)
      --preload          fill every layer slot before the prompt
      --no-mmap          accepted (the WebAssembly builds never map the file)
      --build B          auto | wasm32 | wasm64 | wasi (default auto)
      --wasm-dir DIR     directory of the .wasm builds
  -sys, --system TEXT    chat: the system message
      --chat-template F  chat: a Jinja template file instead of the model's
  -h, --help
chat reads one message per line; /reset forgets the conversation, /stats shows what the last
turn prefilled and reused; Ctrl-C stops an answer (at the prompt: leaves); Ctrl-D leaves.
`;

const SPEC = {
    '-m': ['model', 'str'], '--model': ['model', 'str'],
    '-p': ['prompt', 'str'], '--prompt': ['prompt', 'str'], '--tokens': ['tokens', 'str'],
    '-b': ['batch', 'int'], '--batch-size': ['batch', 'int'], '--repeat-last-n': ['repeatLastN', 'int'],
    '--logits-top': ['logitsTop', 'int'],
    '-n': ['n', 'int'], '--n-predict': ['n', 'int'],
    '-c': ['ctx', 'int'], '--ctx-size': ['ctx', 'int'],
    '-t': ['threads', 'int'], '--threads': ['threads', 'int'],
    '--temp': ['temp', 'num'], '--top-k': ['topK', 'int'], '--top-p': ['topP', 'num'],
    '--min-p': ['minP', 'num'], '--repeat-penalty': ['repeatPenalty', 'num'],
    '-s': ['seed', 'int'], '--seed': ['seed', 'int'],
    '--ignore-eos': ['ignoreEos', 'flag'], '--json': ['json', 'flag'],
    '--build': ['build', 'str'], '--wasm-dir': ['wasmDir', 'str'],
    '-sys': ['system', 'str'], '--system': ['system', 'str'], '--chat-template': ['chatTemplate', 'str'],
    '-h': ['help', 'flag'], '--help': ['help', 'flag'],
    // the native CLI's memory flags (tools/cli/cli_mem.c): same names, values and errors
    '--paged': ['paged', 'flag'], '--resident': ['resident', 'flag'], '--preload': ['preload', 'flag'],
    '--no-mmap': ['noMmap', 'flag'],
    '--cache-layers': ['cacheLayers', 'mem'], '--mem-budget': ['memBudget', 'mem'], '--prefetch': ['prefetch', 'mem'],
    '--policy': ['policy', 'mem'],
};

// chord_cli_parse_size: bytes, or a number with K/M/G/T (optionally followed by i and/or B).
export function parseSize(s) {
    const m = /^\s*([+]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([kKmMgGtT]?)(?:[iI]?)(?:[bB]?)$/.exec(s);
    if (!m || (!m[2] && /[iIbB]$/.test(s))) return null;
    const v = Number(m[1]) * ({ '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 })[m[2].toLowerCase()];
    return Number.isFinite(v) && v < 2 ** 64 ? Math.floor(v) : null;
}

// The value of a memory flag, checked as natively (chord_cli_mem_flag); null = bad value.
function memValue(flag, v, o) {
    const int = (lo, hi) => (/^[+-]?\d+$/.test(v.trim()) && Number(v) >= lo && Number(v) <= hi ? Number(v) : null);
    if (flag === '--cache-layers') return int(1, 1 << 20);
    if (flag === '--prefetch') return int(0, 64);
    if (flag === '--policy') return v === 'pin' || v === 'lru' ? v : null;
    const b = parseSize(v);
    return b > 0 ? b : null;
}

function die(msg, code = 2) {
    process.stderr.write(`wasm-chord: error: ${msg}\n`);
    process.exit(code);
}

export function parseArgs(argv) {
    const o = { prompt: '', tokens: null, n: 128, ctx: 0, threads: 0, batch: 0, temp: 0.8, topK: 40, topP: 0.95,
        minP: 0.05, repeatPenalty: 1.0, repeatLastN: 64, seed: 0, ignoreEos: false, json: false, logitsTop: 0,
        build: 'auto', raw: argv };
    for (let i = 0; i < argv.length; i++) {
        let a = argv[i], val = null;
        const eq = a.startsWith('--') ? a.indexOf('=') : -1;
        if (eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
        const s = SPEC[a];
        if (!s) die(`unknown option '${a}' (try --help)`);
        const [key, kind] = s;
        if (kind === 'flag') { o[key] = true; continue; }
        if (val === null) {
            if (i + 1 >= argv.length) die(kind === 'mem' ? `missing value after ${a}` : `option ${a} needs a value`);
            val = argv[++i];
        }
        if (kind === 'str') o[key] = val;
        else if (kind === 'mem') {
            o[key] = memValue(a, val, o);
            if (o[key] === null) die(`bad value '${val}' for ${a}`);
        }
        else {
            const x = Number(val);
            if (val.trim() === '' || !Number.isFinite(x) || (kind === 'int' && !Number.isInteger(x)))
                die(`option ${a}: '${val}' is not ${kind === 'int' ? 'an integer' : 'a number'}`);
            o[key] = x;
        }
    }
    if (o.help) return o;
    if (!o.model) die('missing -m MODEL');
    if (!['auto', 'wasm32', 'wasm64', 'wasi'].includes(o.build)) die(`--build must be auto, wasm32, wasm64 or wasi, got '${o.build}'`);
    if (o.n < -1) die('-n must be >= -1');
    if (o.threads < 0) die('-t must be >= 0');
    if (o.batch < 0) die('-b must be >= 0');
    if (o.logitsTop < 0) die('--logits-top must be >= 0');
    if (o.tokens !== null) {
        const parts = o.tokens.trim().split(/[\s,]+/).filter(Boolean);
        if (!parts.length || parts.some((t) => !/^-?\d+$/.test(t))) die('--tokens: expected integers separated by spaces');
        o.tokenIds = parts.map(Number);
    }
    // as natively: the last of --paged/--resident wins; --cache-layers implies --paged unless a
    // residency was given
    for (const a of argv) {
        if (a === '--paged') o.residency = 'paged';
        else if (a === '--resident') o.residency = 'resident';
    }
    if (o.cacheLayers !== undefined && !o.residency) o.residency = 'paged';
    return o;
}

// loadModel's paging options from the memory flags.
function pagingOptions(o) {
    const p = {};
    if (o.residency) p.residency = o.residency;
    if (o.cacheLayers !== undefined) p.cacheLayers = o.cacheLayers;
    if (o.memBudget !== undefined) p.memoryBudget = o.memBudget;
    if (o.prefetch !== undefined) p.prefetch = o.prefetch;
    if (o.policy !== undefined) p.cachePolicy = o.policy;
    return p;
}

// The native CLI's one-line stderr summary of a paged run (chord_cli_cache_summary).
function cacheSummary(c, nTokens) {
    if (!c || !String(c.policy).startsWith('paged')) return '';
    const acq = c.hits + c.misses + c.prefetch_hits, mib = c.bytes_read / 2 ** 20;
    return `wasm-chord: cache ${c.policy}: ${c.slots} slots (${c.pinned} pinned) of ${c.n_layer} layers, hit rate ` +
        `${(acq ? (100 * c.hits) / acq : 0).toFixed(1)}% (${c.hits} hits, ${c.misses} misses, ${c.prefetch_hits} prefetch hits, ` +
        `${c.evictions} evictions), read ${mib.toFixed(1)} MiB in ${c.read_ms.toFixed(0)} ms (${(nTokens ? mib / nTokens : 0).toFixed(1)} ` +
        `MiB/token), stalled ${c.stall_ms.toFixed(0)} ms\n`;
}

// ---- WASI: the C CLI under node:wasi ------------------------------------------------------------

async function runWasi(o, wasmDir) {
    // node:wasi warns that it is experimental on every run; the output should be the CLI's alone.
    const emitWarning = process.emitWarning;
    process.emitWarning = (w, ...rest) => (/WASI/.test(String(w)) ? undefined : emitWarning.call(process, w, ...rest));
    const { WASI } = await import('node:wasi');
    const file = path.join(wasmDir, 'wasm-chord-wasi.wasm');
    if (!fs.existsSync(file)) die(`WASI build not found at ${file} (run make wasm)`, 1);
    const model = path.resolve(o.model);
    const dir = path.dirname(model);
    // Same arguments as given, with the model path made absolute inside the preopened directory.
    const args = ['wasm-chord', 'run'];
    for (let i = 0; i < o.raw.length; i++) {
        const a = o.raw[i];
        if (a === '--build' || a === '--wasm-dir') { i++; continue; }
        if (a.startsWith('--build=') || a.startsWith('--wasm-dir=')) continue;
        if (a === '-m' || a === '--model') { args.push(a, model); i++; continue; }
        if (a.startsWith('--model=')) { args.push('--model', model); continue; }
        args.push(a);
    }
    const wasi = new WASI({ version: 'preview1', args, env: {}, preopens: { [dir]: dir }, returnOnExit: true });
    const mod = await WebAssembly.compile(fs.readFileSync(file));
    const inst = await WebAssembly.instantiate(mod, wasi.getImportObject());
    return wasi.start(inst);
}

// ---- wasm32 / wasm64: the package API -----------------------------------------------------------

async function runApi(o, wasmDir) {
    const { loadModel, ChordError } = await import('../src/index.js');
    try {
        const model = await loadModel(o.model, {
            build: o.build, threads: o.threads || undefined, nCtx: o.ctx, nBatch: o.batch, wasmBase: wasmDir, ...pagingOptions(o),
        });
        let text = '';
        try {
            if (o.preload) await model.preload();
            const maxTokens = o.n < 0 ? model.info.sizes.nCtx : o.n;
            for await (const piece of model.generate(o.tokenIds ?? o.prompt, {
                maxTokens, temperature: o.temp, topK: o.topK, topP: o.topP, minP: o.minP,
                repeatPenalty: o.repeatPenalty, repeatLastN: o.repeatLastN, seed: o.seed, ignoreEos: o.ignoreEos,
                logitsTop: o.json ? o.logitsTop : 0,
            })) {
                text += piece.text;
                if (!o.json) process.stdout.write(piece.text);
            }
            const g = model.lastGeneration;
            const st = g.stats;
            // A full context ends generation normally only for -n -1 (as natively).
            if (g.status === 'range' && o.n >= 0) throw new ChordError('range', `the context (${model.info.sizes.nCtx} tokens) is full`);
            if (o.json) {
                process.stdout.write(JSON.stringify({
                    ...(g.firstTopLogits ? { first_top_logits: g.firstTopLogits } : {}),
                    prompt_tokens: g.promptTokens,
                    tokens: g.tokens,
                    text,
                    timings: { load_ms: round(model.info.loadMs), prefill_tok_s: round(st.prefill_tok_s), decode_tok_s: round(st.decode_tok_s) },
                    cache: st.cache ?? null,
                    peak_memory_bytes: st.peak_memory_bytes,
                    build: model.info.build,
                    simd: model.info.simd,
                    threads: model.info.threads,
                }) + '\n');
            } else {
                process.stdout.write('\n');
                process.stderr.write(`\nwasm-chord: ${st.n_prefill} prompt tokens at ${st.prefill_tok_s.toFixed(1)} tok/s, ` +
                    `${st.n_decode} generated at ${st.decode_tok_s.toFixed(1)} tok/s, load ${model.info.loadMs.toFixed(0)} ms ` +
                    `(${model.info.build}, ${model.info.simd}, ${model.info.threads} thread${model.info.threads > 1 ? 's' : ''}, ` +
                    `${(st.peak_memory_bytes / 2 ** 20).toFixed(1)} MiB)\n`);
            }
            if (model.info.path.residency === 'paged')
                process.stderr.write(cacheSummary(await model.cacheStats(), st.n_prefill + st.n_decode));
        } finally {
            await model.dispose();
        }
        return 0;
    } catch (e) {
        const err = ChordError.from(e);
        process.stderr.write(`wasm-chord: error: ${err.message} [${err.code}]\n`);
        return 1;
    }
}

const round = (x) => Math.round(x * 100) / 100;

// ---- chat: a line-based REPL over model.chat ----------------------------------------------------

async function runChat(o, wasmDir) {
    const { loadModel, ChordError } = await import('../src/index.js');
    const readline = await import('node:readline');
    if (o.build === 'wasi') die('chat runs on the package API: --build auto, wasm32 or wasm64');
    const template = o.chatTemplate ? fs.readFileSync(o.chatTemplate, 'utf8') : undefined;
    let model;
    try {
        model = await loadModel(o.model, { build: o.build, threads: o.threads || undefined, nCtx: o.ctx, nBatch: o.batch, wasmBase: wasmDir,
            ...pagingOptions(o) });
        if (o.preload) await model.preload();
    } catch (e) {
        process.stderr.write(`wasm-chord: error: ${ChordError.from(e).message}\n`);
        return 1;
    }
    const start = () => (o.system ? [{ role: 'system', content: o.system }] : []);
    let messages = start();
    let running = null;
    const tty = process.stdin.isTTY;
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: tty, prompt: '> ' });
    rl.on('SIGINT', () => {
        if (running) running.abort();
        else rl.close();
    });
    const opts = () => ({
        template, maxTokens: o.n < 0 ? model.info.sizes.nCtx : o.n, temperature: o.temp, topK: o.topK, topP: o.topP,
        minP: o.minP, repeatPenalty: o.repeatPenalty, repeatLastN: o.repeatLastN, seed: o.seed, ignoreEos: o.ignoreEos,
    });
    if (tty) rl.prompt();
    try {
        for await (const line of rl) {
            if (line === '/quit' || line === '/exit') break;
            if (line === '/reset') { messages = start(); process.stdout.write('(conversation reset)\n'); }
            else if (line === '/stats') {
                const g = model.lastGeneration;
                if (g?.rendered === undefined) process.stdout.write('no turn yet\n');
                else process.stdout.write(`last turn: prompt ${g.promptTokens.length} tokens = ${g.reusedTokens} reused from the cache + ` +
                    `${g.stats?.n_prefill ?? 0} prefilled; ${g.tokens.length} generated\n`);
            } else if (line.startsWith('/')) process.stdout.write(`unknown command ${line}\n`);
            else if (line) {
                messages.push({ role: 'user', content: line });
                running = new AbortController();
                let answer = '';
                try {
                    for await (const p of model.chat(messages, { ...opts(), signal: running.signal })) {
                        answer += p.text;
                        process.stdout.write(p.text);
                    }
                    if (model.lastGeneration.status === 'range') process.stdout.write(' [the context is full: /reset to go on]');
                } catch (e) {
                    const err = ChordError.from(e);
                    if (err.code === 'cancelled') process.stdout.write(' [stopped]');
                    else {
                        process.stderr.write(`\nwasm-chord: ${err.message} [${err.code}]\n`);
                        messages.pop();
                        answer = null;
                    }
                }
                running = null;
                process.stdout.write('\n');
                if (answer !== null) messages.push({ role: 'assistant', content: answer });
            }
            if (tty) rl.prompt();
        }
    } finally {
        rl.close();
        await model.dispose();
    }
    return 0;
}

async function main(argv) {
    if (argv[0] === '--help' || argv[0] === '-h' || argv.length === 0) {
        process.stdout.write(HELP);
        return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] !== 'run' && argv[0] !== 'chat') die(`unknown command '${argv[0]}' (run or chat; try --help)`);
    const o = parseArgs(argv.slice(1));
    if (o.help) { process.stdout.write(HELP); return 0; }
    const here = path.dirname(fileURLToPath(import.meta.url));
    const wasmDir = o.wasmDir ? path.resolve(o.wasmDir)
        : [path.join(here, '../wasm'), path.join(here, '../../build/wasm')].find((d) => fs.existsSync(path.join(d, 'chord-wasm32.wasm')))
          ?? path.join(here, '../../build/wasm');
    if (o.build === 'wasi') return runWasi(o, wasmDir);
    // Node 20/22 need a process-wide V8 flag for Memory64 (it cannot be given to a Worker).
    if (o.build === 'wasm64' && !WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 4, 1])) &&
        !process.env.WASM_CHORD_REEXEC) {
        const r = spawnSync(process.execPath, ['--experimental-wasm-memory64', '--no-warnings', fileURLToPath(import.meta.url), ...argv],
            { stdio: 'inherit', env: { ...process.env, WASM_CHORD_REEXEC: '1' } });
        return r.status ?? 1;
    }
    if (argv[0] === 'chat') return runChat(o, pathToFileURL(wasmDir + '/').href);
    return runApi(o, pathToFileURL(wasmDir + '/').href);
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
    process.exitCode = await main(process.argv.slice(2));
}
