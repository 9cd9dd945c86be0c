// app.js — the demo page: load a GGUF model from a file or URL with progress, then chat or
// complete with streamed tokens, a stop button and tokens/s. Plain DOM, no framework; all model
// work goes through the public package API (../js/src/index.js), which runs it in a worker.
//
// State for tests and humans: document.body.dataset.state is 'idle' | 'loading' | 'ready' |
// 'generating' | 'error'; each answer element gets data-status ('ok' | 'cancelled' | 'range' |
// 'error') and data-tokens when it finishes.

import { loadModel, ChordError, cacheStatus, cacheDelete } from '../js/src/index.js';

const $ = (id) => document.getElementById(id);
// ?wasm=/dir/ picks another directory of .wasm builds (default: the package's resolution).
const wasmBase = new URLSearchParams(location.search).get('wasm') || undefined;
let model = null;
let running = null;         // AbortController of the generation in progress
const history = [];         // chat turns: { role, text }

function setState(s, msg) {
    document.body.dataset.state = s;
    if (msg !== undefined) $('status').textContent = msg;
    $('generate').disabled = !(s === 'ready' && model);
    $('stop').disabled = s !== 'generating';
    $('load-url').disabled = $('file').disabled = s === 'loading' || s === 'generating';
}

function fmtBytes(n) {
    if (n == null) return '?';
    if (n >= 2 ** 30) return (n / 2 ** 30).toFixed(2) + ' GiB';
    if (n >= 2 ** 20) return (n / 2 ** 20).toFixed(1) + ' MiB';
    return (n / 1024).toFixed(1) + ' KiB';
}

$('env').textContent = `crossOriginIsolated: ${self.crossOriginIsolated} (threads ${self.crossOriginIsolated ? 'available' : 'off: single thread'}), ` +
    `cores: ${navigator.hardwareConcurrency}`;
$('threads').placeholder = String(self.crossOriginIsolated ? Math.min(8, navigator.hardwareConcurrency || 1) : 1);

// ---- loading -----------------------------------------------------------------------------------

// ---- the OPFS cache of URL loads ---------------------------------------------------------------

const opfs = !!navigator.storage?.getDirectory;
if (!opfs) { $('use-cache').checked = false; $('use-cache').disabled = true; }

function urlValue() {
    const u = $('url').value.trim();
    return u ? new URL(u, location.href).href : '';
}

// The "cached" marker: data-cached on #cached is 'yes' | 'partial' | 'no' for tests.
async function showCached() {
    const url = urlValue();
    if (!opfs || !url) { $('cached').textContent = ''; $('cache-delete').hidden = true; return; }
    try {
        const st = await cacheStatus(url);
        const mark = st.cached ? 'yes' : st.bytes > 0 ? 'partial' : 'no';
        $('cached').dataset.cached = mark;
        $('cached').textContent = st.cached ? `✓ cached (${fmtBytes(st.size)})`
            : st.bytes > 0 ? `partial download (${fmtBytes(st.bytes)} of ${fmtBytes(st.size)}), resumes on load` : 'not cached';
        $('cache-delete').hidden = !(st.cached || st.bytes > 0);
    } catch (e) {
        $('cached').textContent = `cache unavailable: ${e.message}`;
    }
}

async function load(source, label, extra = {}) {
    const old = model;
    model = null;
    $('info').textContent = '';
    $('progress').value = 0;
    setState('loading', `Loading ${label}…`);
    if (old) await old.dispose();
    const t0 = performance.now();
    try {
        const threads = Number($('threads').value) || undefined;
        model = await loadModel(source, {
            build: $('build').value,
            threads,
            wasmBase,
            nCtx: Number($('nctx').value) || 0,
            ...extra,
            onProgress: ({ loaded, total, phase }) => {
                $('progress').value = total ? loaded / total : 0;
                const what = phase === 'download' ? 'Downloading' : 'Loading';
                $('status').textContent = `${what} ${label}: ${fmtBytes(loaded)} of ${fmtBytes(total)}`;
            },
        });
        const i = model.info;
        $('progress').value = 1;
        $('info').textContent =
            `${i.name || i.source.name} — ${i.architecture}, ${(i.sizes.nParams / 1e6).toFixed(2)} M params, ` +
            `${i.sizes.nLayer} layers, vocab ${i.sizes.nVocab}, context ${i.sizes.nCtx}\n` +
            `build ${i.build} (${i.wasmFile}, ${i.simd}), ${i.threads} thread(s), memory ${fmtBytes(i.sizes.memoryBytes)}, ` +
            `loaded in ${(performance.now() - t0).toFixed(0)} ms\n` +
            `path: resident, ${i.store ? `${i.store.kind} store (${i.store.read === 'host' ? 'engine read import' : 'copied in'}` +
                `${i.store.cached === true ? ', from the OPFS cache, no network' : i.store.cached === false ? `, downloaded ${fmtBytes(i.store.fetched)}` : ''})`
                : `streamed from ${i.source.kind}`}`;
        $('memory').textContent = `wasm memory in use: ${fmtBytes(i.sizes.memoryBytes)} of ${fmtBytes(i.raw.max_memory_bytes)} (${i.build})`;
        if (extra.store === 'opfs') showCached();
        setState('ready', `Ready: ${label}`);
    } catch (e) {
        model = null;
        setState('error', `Load failed: ${e.message}${e instanceof ChordError ? ` [${e.code}]` : ''}`);
    }
}

$('file').addEventListener('change', () => {
    const f = $('file').files[0];
    if (f) load(f, f.name);
});
$('load-url').addEventListener('click', () => {
    const u = urlValue();
    if (u) load(u, $('url').value.trim(), $('use-cache').checked ? { store: 'opfs' } : {});
});
$('url').addEventListener('change', showCached);
$('cache-delete').addEventListener('click', async () => {
    try { await cacheDelete(urlValue()); } catch (e) { $('status').textContent = e.message; }
    showCached();
});
showCached();

// ---- prompts -----------------------------------------------------------------------------------

// A small set of chat formats, recognised from the model's chat template; plain "User:" otherwise.
function chatFormat() {
    const t = model.info.chatTemplate ?? '';
    if (t.includes('<|im_start|>')) return { user: (m) => `<|im_start|>user\n${m}<|im_end|>\n<|im_start|>assistant\n`, end: '<|im_end|>\n' };
    if (t.includes('<|start_header_id|>')) return { user: (m) => `<|start_header_id|>user<|end_header_id|>\n\n${m}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`, end: '<|eot_id|>' };
    if (t.includes('<|user|>')) return { user: (m) => `<|user|>\n${m}</s>\n<|assistant|>\n`, end: '</s>\n' };
    if (t.includes('[INST]')) return { user: (m) => `[INST] ${m} [/INST]`, end: '</s>' };
    return { user: (m) => `User: ${m}\nAssistant:`, end: '\n' };
}

function buildPrompt(text) {
    if ($('mode').value === 'completion') return { prompt: text, parseSpecial: false };
    const f = chatFormat();
    let p = '';
    for (const turn of history) p += turn.role === 'user' ? f.user(turn.text) : turn.text + f.end;
    return { prompt: p + f.user(text), parseSpecial: true };
}

function addMessage(cls, text) {
    const div = document.createElement('div');
    div.className = `msg ${cls}`;
    div.textContent = text;
    $('messages').appendChild(div);
    $('messages').scrollTop = $('messages').scrollHeight;
    return div;
}

// ---- generation --------------------------------------------------------------------------------

async function generate() {
    if (!model || running) return;
    const text = $('prompt').value;
    const { prompt, parseSpecial } = buildPrompt(text);
    if (text) addMessage('user', text);
    const out = addMessage('bot running', $('mode').value === 'completion' ? text : '');
    $('prompt').value = '';
    running = new AbortController();
    setState('generating', 'Generating…');
    let n = 0, first = 0, answer = '';
    try {
        for await (const piece of model.generate(prompt, {
            maxTokens: Number($('max-tokens').value) || 256,
            temperature: Number($('temp').value),
            topK: Number($('top-k').value),
            topP: Number($('top-p').value),
            seed: Number($('seed').value) || 0,
            parseSpecial,
            signal: running.signal,
        })) {
            if (n++ === 0) first = performance.now();
            answer += piece.text;
            out.textContent += piece.text;
            if (n > 1) $('tps').textContent = `${n} tokens, ${((n - 1) / ((performance.now() - first) / 1000)).toFixed(1)} tok/s`;
            $('messages').scrollTop = $('messages').scrollHeight;
        }
        out.dataset.status = model.lastGeneration.status;
    } catch (e) {
        if (e instanceof ChordError && e.code === 'cancelled') out.dataset.status = 'cancelled';
        else { out.dataset.status = 'error'; addMessage('error', `Error: ${e.message}`); }
    }
    out.classList.remove('running');
    out.dataset.tokens = String(n);
    const st = model?.lastGeneration?.stats;
    if (st) $('tps').textContent = `${n} tokens · prefill ${st.prefill_tok_s.toFixed(1)} tok/s · decode ${st.decode_tok_s.toFixed(1)} tok/s`;
    if (st?.peak_memory_bytes) $('memory').textContent = `wasm memory in use: ${fmtBytes(st.peak_memory_bytes)} of ${fmtBytes(model.info.raw.max_memory_bytes)} (${model.info.build})`;
    if ($('mode').value === 'chat' && out.dataset.status !== 'error') history.push({ role: 'user', text }, { role: 'bot', text: answer });
    running = null;
    setState('ready', out.dataset.status === 'cancelled' ? 'Stopped.' : 'Ready.');
}

$('generate').addEventListener('click', generate);
$('stop').addEventListener('click', () => running?.abort());
$('clear').addEventListener('click', () => { history.length = 0; $('messages').textContent = ''; $('tps').textContent = ''; });
$('prompt').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) generate(); });
setState('idle');
