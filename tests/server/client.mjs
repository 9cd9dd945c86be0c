// client.mjs — drives `wasm-chord serve` with the official `openai` npm client.
//   node tests/server/client.mjs CONFIG.json MODE
// CONFIG: {"base": "http://127.0.0.1:PORT/v1", "model": "...", "key": "..."?,
//          "chat": [{"messages": [...], "max_tokens": N, "text": "<greedy answer of run>", "n": tokens}],
//          "completion": [{"prompt": "...", "max_tokens": N, "text": "...", "n": tokens}]}
// MODE: api (models, chat/completions streamed and not, stop, errors through the client),
//       load [CLIENTS REQUESTS] (concurrent clients, every answer checked against run's),
//       disconnect (streams aborted mid-answer free their slots),
//       key (401 without the key, 200 with it).
// Prints "ok   ..." / "FAIL ..." lines and exits non-zero on any failure.
import fs from 'node:fs';
import OpenAI from 'openai';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const mode = process.argv[3] || 'api';
const root = cfg.base.replace(/\/v1$/, '');
let fails = 0;
const check = (name, ok, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : ' — ' + detail}`);
  if (!ok) fails++;
};
const client = (key = cfg.key ?? 'none', extra = {}) =>
  new OpenAI({ baseURL: cfg.base, apiKey: key, maxRetries: 0, timeout: 120000, ...extra });
const health = async () => (await fetch(root + '/health')).json();

async function chatOnce(c, t, stream) {
  const req = { model: cfg.model, messages: t.messages, max_tokens: t.max_tokens, temperature: 0 };
  if (!stream) {
    const r = await c.chat.completions.create(req);
    return { text: r.choices[0].message.content, n: r.usage.completion_tokens, finish: r.choices[0].finish_reason,
             prompt_tokens: r.usage.prompt_tokens, obj: r };
  }
  const s = await c.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  let text = '', finish = null, usage = null, roles = 0, chunks = 0;
  for await (const ch of s) {
    chunks++;
    if (ch.usage) usage = ch.usage;
    for (const choice of ch.choices) {
      if (choice.delta?.role) roles++;
      if (choice.delta?.content) text += choice.delta.content;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { text, n: usage?.completion_tokens, finish, roles, chunks };
}

async function completionOnce(c, t, stream) {
  const req = { model: cfg.model, prompt: t.prompt, max_tokens: t.max_tokens, temperature: 0 };
  if (!stream) {
    const r = await c.completions.create(req);
    return { text: r.choices[0].text, n: r.usage.completion_tokens, finish: r.choices[0].finish_reason };
  }
  const s = await c.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  let text = '', finish = null, usage = null;
  for await (const ch of s) {
    if (ch.usage) usage = ch.usage;
    for (const choice of ch.choices) {
      text += choice.text ?? '';
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { text, n: usage?.completion_tokens, finish };
}

async function expectError(name, fn, status, code) {
  try {
    await fn();
    check(name, false, 'no error');
  } catch (e) {
    const ok = e.status === status && (!code || e.code === code) && typeof e.message === 'string';
    check(`${name} → ${e.status} ${e.code}`, ok, `${e.status} ${e.code} ${e.message}`);
  }
}

async function api() {
  const c = client();
  const models = await c.models.list();
  check('models.list has the served id', models.data.length === 1 && models.data[0].id === cfg.model);
  const m = await c.models.retrieve(cfg.model);
  check('models.retrieve', m.id === cfg.model);
  for (const [i, t] of cfg.chat.entries()) {
    const a = await chatOnce(c, t, false);
    check(`chat ${i}: greedy answer equals run's`, a.text === t.text && a.n === t.n, JSON.stringify([a.text, a.n, t.text, t.n]));
    check(`chat ${i}: object, finish_reason, usage`, a.obj.object === 'chat.completion' &&
          ['stop', 'length'].includes(a.finish) && a.prompt_tokens === t.prompt_n && a.obj.usage.total_tokens === t.prompt_n + t.n,
          JSON.stringify(a.obj));
    const s = await chatOnce(c, t, true);
    check(`chat ${i}: streamed equals run's, one role delta, usage chunk`, s.text === t.text && s.n === t.n &&
          s.roles === 1 && s.finish === a.finish, JSON.stringify(s));
  }
  for (const [i, t] of cfg.completion.entries()) {
    const a = await completionOnce(c, t, false);
    check(`completion ${i}: greedy equals run's`, a.text === t.text && a.n === t.n, JSON.stringify([a, t]));
    const s = await completionOnce(c, t, true);
    check(`completion ${i}: streamed equals run's`, s.text === t.text && s.n === t.n && s.finish === a.finish, JSON.stringify(s));
  }
  // stop strings: cut before the first match, finish_reason "stop", streamed the same
  const t = cfg.completion[0], word = cfg.stop_word;
  const cut = t.text.indexOf(word);
  for (const stream of [false, true]) {
    const req = { model: cfg.model, prompt: t.prompt, max_tokens: t.max_tokens, temperature: 0, stop: [word, 'zzzz'], stream };
    let text = '', finish = null;
    if (stream) {
      for await (const ch of await c.completions.create(req)) for (const x of ch.choices) { text += x.text; finish = x.finish_reason ?? finish; }
    } else {
      const r = await c.completions.create(req);
      text = r.choices[0].text; finish = r.choices[0].finish_reason;
    }
    check(`stop ${JSON.stringify(word)} (stream ${stream}) cuts the answer`, cut > 0 && text === t.text.slice(0, cut) && finish === 'stop',
          JSON.stringify([text, finish, cut]));
  }
  // sampling with a seed is reproducible
  const seeded = async () => (await c.completions.create({ model: cfg.model, prompt: t.prompt, max_tokens: 24, temperature: 1,
                                                           top_p: 0.9, seed: 42 })).choices[0].text;
  const s1 = await seeded(), s2 = await seeded();
  check('same seed, same sampled answer', s1 === s2 && s1.length > 0);
  // errors through the client
  await expectError('unknown model', () => c.chat.completions.create({ model: 'nope', messages: cfg.chat[0].messages }), 404, 'model_not_found');
  await expectError('n = 2', () => c.chat.completions.create({ model: cfg.model, messages: cfg.chat[0].messages, n: 2 }), 400, 'unsupported_parameter');
  await expectError('temperature 3', () => c.chat.completions.create({ model: cfg.model, messages: cfg.chat[0].messages, temperature: 3 }), 400, 'invalid_value');
  await expectError('empty messages', () => c.chat.completions.create({ model: cfg.model, messages: [] }), 400);
  await expectError('image content part', () => c.chat.completions.create({ model: cfg.model,
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] }] }), 400, 'unsupported_content');
  const h = await health();
  check('health: all slots free, queue empty', h.slots_free === h.slots_total && h.queue === 0, JSON.stringify(h));
}

async function load(nClients, nRequests) {
  const c = client();
  let done = 0, errors = 0, wrong = 0;
  const worker = async (w) => {
    for (let r = 0; r < nRequests; r++) {
      const k = (w + r) % (cfg.chat.length + cfg.completion.length);
      const stream = (w + r) % 2 === 1;
      try {
        const chat = k < cfg.chat.length;
        const t = chat ? cfg.chat[k] : cfg.completion[k - cfg.chat.length];
        const a = chat ? await chatOnce(c, t, stream) : await completionOnce(c, t, stream);
        if (a.text === t.text && a.n === t.n) done++;
        else { wrong++; console.log(`wrong answer client ${w} request ${r}: ${JSON.stringify(a.text)}`); }
      } catch (e) {
        // a clear error is allowed (a busy server says 503 with a JSON body); nothing may vanish
        if (e.status === 503 && e.error?.message) errors++;
        else { wrong++; console.log(`client ${w} request ${r}: ${e.status} ${e.message}`); }
      }
    }
  };
  await Promise.all(Array.from({ length: nClients }, (_, w) => worker(w)));
  const total = nClients * nRequests;
  console.log(`load: ${total} requests, ${done} full answers, ${errors} clear 503s, ${wrong} lost or wrong`);
  check(`load: ${nClients} clients x ${nRequests}: every request answered or refused clearly`, done + errors === total && wrong === 0);
  check('load: most requests answered (queue large enough)', done >= total * 0.9, `${done}/${total}`);
  let h = await health();
  for (let i = 0; i < 100 && (h.slots_free !== h.slots_total || h.queue); i++) { await new Promise(r => setTimeout(r, 50)); h = await health(); }
  check('load: /health shows every slot free afterwards', h.slots_free === h.slots_total && h.queue === 0, JSON.stringify(h));
  return { done, errors };
}

async function disconnect() {
  const c = client();
  const before = await health();
  const long = { model: cfg.model, prompt: cfg.completion[0].prompt, max_tokens: 1500, temperature: 1, seed: 1, ignore_eos: true, stream: true };
  const aborted = [];
  for (let i = 0; i < before.slots_total; i++) {
    const ac = new AbortController();
    const s = await c.completions.create(long, { signal: ac.signal });
    aborted.push((async () => {
      let got = 0;
      try {
        for await (const ch of s) { got += ch.choices[0]?.text?.length ?? 0; if (got > 0) ac.abort(); }
      } catch (e) { /* the abort */ }
      return got;
    })());
  }
  const got = await Promise.all(aborted);
  check('disconnect: every stream received text before the abort', got.every(g => g > 0));
  let h = await health();
  for (let i = 0; i < 200 && h.slots_free !== h.slots_total; i++) { await new Promise(r => setTimeout(r, 25)); h = await health(); }
  check('disconnect: the slots are free again', h.slots_free === h.slots_total && h.queue === 0, JSON.stringify(h));
  // counted, not timed: the cancelled answers stopped far short of their 1500 tokens each
  const spent = h.tokens_generated - before.tokens_generated;
  check(`disconnect: cancelled streams generated ${spent} tokens, far below ${1500 * before.slots_total}`, spent < 1500 * before.slots_total / 2);
  check('disconnect: counted as failed requests', h.requests_failed - before.requests_failed === before.slots_total, JSON.stringify(h));
  const a = await completionOnce(c, cfg.completion[0], false);
  check('disconnect: the next request is answered normally', a.text === cfg.completion[0].text);
}

async function key() {
  await expectError('no API key', () => client('wrong-key').models.list(), 401, 'invalid_api_key');
  await expectError('chat with a wrong API key', () => client('wrong-key').chat.completions.create({ model: cfg.model, messages: cfg.chat[0].messages }), 401, 'invalid_api_key');
  const a = await chatOnce(client(cfg.key), cfg.chat[0], false);
  check('the right API key is accepted', a.text === cfg.chat[0].text);
}

try {
  if (mode === 'api') await api();
  else if (mode === 'load') await load(Number(process.argv[4] || 8), Number(process.argv[5] || 25));
  else if (mode === 'disconnect') await disconnect();
  else if (mode === 'key') await key();
  else throw new Error('unknown mode ' + mode);
} catch (e) {
  check(`${mode}: unexpected exception`, false, e.stack);
}
process.exit(fails ? 1 : 0);
