// app.js — the demo page: load a GGUF model from a file or URL with progress, then chat (through
// model.chat and the model's chat template) or complete with streamed tokens, a stop button and
// tokens/s. Plain DOM, no framework; all model
// work goes through the public package API (../js/src/index.js), which runs it in a worker.
//
// While generating, the cache line (path, hit rate, bytes read, stall) and the wasm memory line
// update from model.liveStats after every layer of the prompt's prefill (the generate option
// onLive; the tokens/s line shows how far the prefill is) and after every token.
// State for tests and humans: document.body.dataset.state is 'idle' | 'loading' | 'ready' |
// 'generating' | 'error'; each answer element gets data-status ('ok' | 'cancelled' | 'range' |
// 'error') and data-tokens when it finishes; in chat mode also data-prompt (the rendered prompt)
// and data-reused (prompt tokens taken from the KV cache).

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

// The layer cache line: after each load and generation (model.cacheStats()) and, while a
// generation runs, after every token (model.liveStats: a paged model reads layers as it goes).
// data-bytes-read / data-acquires / data-live (updates during the current generation) are for tests.
function renderCacheStats(c, live) {
    const acq = c.hits + c.misses + c.prefetch_hits;
    const el = $('cache-stats');
    el.textContent = `${live ? '● live — ' : ''}path ${model.info.path.residency}, layer cache (${c.policy}): ${c.slots} slots of ${c.n_layer} layers, ` +
        `hit rate ${acq ? ((100 * (c.hits + c.prefetch_hits)) / acq).toFixed(0) : '—'}% (${c.prefetch_hits} read ahead), ${fmtBytes(c.bytes_read)} read, ` +
        `stall ${c.stall_ms.toFixed(0)} ms`;
    el.dataset.bytesRead = String(c.bytes_read);
    el.dataset.acquires = String(acq);
}

async function showCacheStats() {
    if (!model) return;
    renderCacheStats(await model.cacheStats(), false);
}

function showMemory(bytes) {
    $('memory').textContent = `wasm memory in use: ${fmtBytes(bytes)} of ${fmtBytes(model.info.raw.max_memory_bytes)} (${model.info.build})`;
}

function showLive() {
    const l = model?.liveStats;
    if (!l) return;
    renderCacheStats(l.cache, true);
    showMemory(l.memoryBytes);
    $('cache-stats').dataset.live = String(Number($('cache-stats').dataset.live || 0) + 1);
}

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
            ...($('residency').value === 'auto' ? {} : { residency: $('residency').value }),
            ...(Number($('cache-layers').value) > 0 ? { cacheLayers: Number($('cache-layers').value) } : {}),
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
            `path: ${i.path.residency}${i.path.why ? ` (${i.path.why})` : ''}` +
            `${i.path.prefetch ? `, prefetch ${i.path.prefetch}${i.path.prefetchWhy ? ` (${i.path.prefetchWhy})` : ''}` : ''}, ${i.store ? `${i.store.kind} store (${i.store.read === 'host' ? 'engine read import' : 'copied in'}` +
                `${i.store.cached === true ? ', from the OPFS cache, no network' : i.store.cached === false ? `, downloaded ${fmtBytes(i.store.fetched)}` : ''})`
                : `streamed from ${i.source.kind}`}`;
        showMemory(i.sizes.memoryBytes);
        if (extra.store === 'opfs') showCached();
        $('template-note').textContent = i.chatTemplate ? 'chat: the model\'s own chat template'
            : 'chat: the model has no chat template — plain "role: text" format';
        if (i.chatTemplate) $('mode').value = 'chat';   // a chat model: chat by default
        showCacheStats();
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
    // A paged model keeps reading its cached copy: unload it first.
    if (model?.info.store?.kind === 'opfs' && model.info.path.residency === 'paged') {
        const m = model;
        model = null;
        await m.dispose();
        $('info').textContent = $('cache-stats').textContent = '';
        setState('idle', 'Model unloaded: its cached copy was deleted.');
    }
    try { await cacheDelete(urlValue()); } catch (e) { $('status').textContent = e.message; }
    showCached();
});
showCached();

// ---- prompts -----------------------------------------------------------------------------------

// Chat mode sends the whole conversation to model.chat(), which renders it with the model's own
// chat template (tokenizer.chat_template) in the engine — the same renderer as the native CLI —
// and reuses the KV cache of the previous turn. Models without a template get the engine's
// documented plain format ("role: text").
function conversation(text) {
    const sys = $('system').value.trim();
    return [...(sys ? [{ role: 'system', content: sys }] : []), ...history, { role: 'user', content: text }];
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
    const chat = $('mode').value === 'chat';
    if (text) addMessage('user', text);
    const out = addMessage('bot running', $('mode').value === 'completion' ? text : '');
    $('prompt').value = '';
    running = new AbortController();
    $('cache-stats').dataset.live = '0';
    setState('generating', 'Generating…');
    let n = 0, first = 0, answer = '';
    try {
        const opts = {
            maxTokens: Number($('max-tokens').value) || 256,
            temperature: Number($('temp').value),
            topK: Number($('top-k').value),
            topP: Number($('top-p').value),
            seed: Number($('seed').value) || 0,
            signal: running.signal,
            // during the prefill (no tokens yet): after every layer
            onLive: (l) => {
                if (!l.prefill) return;
                const p = l.prefill;
                $('tps').textContent = `prefill: ${p.done + p.batch} of ${p.total} prompt tokens, layer ${p.layer + 1} of ${p.nLayer}`;
                showLive();
            },
        };
        const pieces = chat ? model.chat(conversation(text), opts) : model.generate(text, opts);
        for await (const piece of pieces) {
            if (n++ === 0) first = performance.now();
            answer += piece.text;
            out.textContent += piece.text;
            if (n > 1) $('tps').textContent = `${n} tokens, ${((n - 1) / ((performance.now() - first) / 1000)).toFixed(1)} tok/s`;
            showLive();
            $('messages').scrollTop = $('messages').scrollHeight;
        }
        out.dataset.status = model.lastGeneration.status;
        if (chat) {
            // what the template produced and how much of it the cache already held (tests read these)
            out.dataset.prompt = model.lastGeneration.rendered;
            out.dataset.reused = String(model.lastGeneration.reusedTokens);
        }
    } catch (e) {
        if (e instanceof ChordError && e.code === 'cancelled') out.dataset.status = 'cancelled';
        else { out.dataset.status = 'error'; addMessage('error', `Error: ${e.message}`); }
    }
    out.classList.remove('running');
    out.dataset.tokens = String(n);
    const st = model?.lastGeneration?.stats;
    if (st) $('tps').textContent = `${n} tokens · prefill ${st.prefill_tok_s.toFixed(1)} tok/s · decode ${st.decode_tok_s.toFixed(1)} tok/s`;
    if (model) showCacheStats();
    if (st?.peak_memory_bytes) showMemory(st.peak_memory_bytes);
    if (chat && out.dataset.status !== 'error') history.push({ role: 'user', content: text }, { role: 'assistant', content: answer });
    running = null;
    setState('ready', out.dataset.status === 'cancelled' ? 'Stopped.' : 'Ready.');
}

$('generate').addEventListener('click', generate);
$('stop').addEventListener('click', () => running?.abort());
$('clear').addEventListener('click', () => { history.length = 0; $('messages').textContent = ''; $('tps').textContent = ''; });
$('prompt').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) generate(); });
setState('idle');
