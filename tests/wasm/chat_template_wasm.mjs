#!/usr/bin/env node
// chat_template_wasm.mjs — renders chat templates with a freestanding wasm build (chord-wasm32 /
// chord-wasm64, through the chord_wasm_chat_render_template export) for tests/t_chat_template.sh,
// which compares the files with jinja2's and the native renderer's.
// usage: node [--experimental-wasm-memory64] chat_template_wasm.mjs BUILD.wasm OUTDIR SUFFIX BOS EOS TEMPLATE... -- CONV...
// Writes OUTDIR/<template>__<conv>.<SUFFIX> (the rendering) or .<SUFFIX>err (the error).
import fs from 'node:fs';
import path from 'node:path';
import { createEngine } from '../../js/src/core.js';

const [, , wasm, outdir, suffix, bos, eos, ...rest] = process.argv;
const sep = rest.indexOf('--');
const templates = rest.slice(0, sep), convs = rest.slice(sep + 1);
const engine = await createEngine({ wasm: path.resolve(wasm) });
const x = engine.x, P = engine.P, N = engine.N;
const enc = new TextEncoder();
const cstr = (s) => engine._putBytes(enc.encode(s + '\0'));
const bosP = cstr(bos), eosP = cstr(eos), lenP = engine._alloc(8);
for (const c of convs) {
    const cb = fs.readFileSync(c);
    const cP = engine._putBytes(cb);
    for (const t of templates) {
        const tb = fs.readFileSync(t);
        const tP = engine._putBytes(tb);
        const base = path.join(outdir, `${path.basename(t, '.jinja')}__${path.basename(c, '.json')}`);
        const r = N(x.chord_wasm_chat_render_template(P(tP), P(tb.length), P(bosP), P(eosP), P(cP), P(cb.length), P(lenP)));
        if (!r) fs.writeFileSync(`${base}.${suffix}err`, engine._error().message + '\n');
        else {
            const view = new DataView(engine.memory.buffer);
            const n = engine.is64 ? Number(view.getBigUint64(lenP, true)) : view.getUint32(lenP, true);
            fs.writeFileSync(`${base}.${suffix}`, Buffer.from(engine._u8(r, n)));
            engine._free(r);
        }
        engine._free(tP);
    }
    engine._free(cP);
}
