#!/usr/bin/env node
// wasi_run.mjs — runs a WASI preview1 command (build/wasm/wasm-chord-wasi.wasm) under node:wasi
// with / preopened, forwarding argv and the exit code. Arguments naming existing relative paths
// are made absolute (this wasi-libc resolves relative paths only against a '.' preopen, and a
// '.' preopen next to '/' breaks absolute ones).
// usage: node wasi_run.mjs PROGRAM.wasm [args...]
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { WASI } from 'node:wasi';

// node 20 (V8 11.3) aborts with "Fatal error ... unreachable code" in a GC that a large
// memory.grow of the (non-shared) WASI memory triggers during incremental marking; loading a
// 0.7 GB model reproduces it. Incremental marking off avoids it.
v8.setFlagsFromString('--no-incremental-marking');
process.removeAllListeners('warning'); // node prints an ExperimentalWarning for node:wasi
const [, , prog, ...rawArgs] = process.argv;
const args = rawArgs.map((a) => (a && !a.startsWith('-') && !path.isAbsolute(a) && fs.existsSync(a) ? path.resolve(a) : a));
const wasi = new WASI({ version: 'preview1', args: ['wasm-chord', ...args], env: {},
    preopens: { '/': '/' }, returnOnExit: true });
const module = await WebAssembly.compile(fs.readFileSync(prog));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
