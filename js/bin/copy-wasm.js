#!/usr/bin/env node
// copy-wasm.js — `npm pack` / `npm publish` step (package.json "prepack"): copies the WebAssembly
// builds from the repository's build/wasm/ (make wasm) into the package's wasm/ directory, where
// the published package looks for them (src/env.js resolveWasmBase).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const from = path.resolve(pkg, process.env.BUILD ? path.join('..', process.env.BUILD, 'wasm') : '../build/wasm');
const files = ['chord-wasm32.wasm', 'chord-wasm32-relaxed.wasm', 'chord-wasm64.wasm', 'chord-wasm64-relaxed.wasm', 'wasm-chord-wasi.wasm'];
fs.mkdirSync(path.join(pkg, 'wasm'), { recursive: true });
for (const f of files) {
    const src = path.join(from, f);
    if (!fs.existsSync(src)) {
        console.error(`copy-wasm: ${src} missing — run make wasm first`);
        process.exit(1);
    }
    fs.copyFileSync(src, path.join(pkg, 'wasm', f));
}
console.log(`copy-wasm: ${files.length} builds copied to ${path.join(pkg, 'wasm')}`);
