// best_of.mjs — browser_bench's measurement of one loaded wasm-chord model, shared by the page
// (imported from the served repository) and the Node runner: `reps` runs of the prompt + `decode`
// tokens, each a fresh prompt evaluation; → the best prefill and the best decode of them.

export async function bestOfRuns(model, prompt, decode, reps) {
    let n = 0, prefill = 0, decodeTps = 0, promptTokens = 0;
    for (let i = 0; i < reps; i++) {
        n = 0;
        for await (const _ of model.generate(prompt, { temperature: 0, maxTokens: decode, ignoreEos: true })) n++;
        const g = model.lastGeneration;
        prefill = Math.max(prefill, g.stats.prefill_tok_s);
        decodeTps = Math.max(decodeTps, g.stats.decode_tok_s);
        promptTokens = g.promptTokens.length;
    }
    return { decoded: n, prefill, decodeTps, promptTokens };
}
