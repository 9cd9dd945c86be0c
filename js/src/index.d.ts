// Type declarations of the wasm-chord package (js/src/index.js).

/** Error codes: the engine's status names plus host-side 'disposed' and 'worker'. */
export type ChordErrorCode =
    | 'invalid_arg' | 'io' | 'format' | 'unsupported' | 'nomem' | 'range' | 'not_found'
    | 'type' | 'cancelled' | 'internal' | 'buffer' | 'disposed' | 'worker' | 'busy';

/** Every failure of the package is a ChordError. */
export class ChordError extends Error {
    constructor(code: ChordErrorCode, message: string);
    readonly name: 'ChordError';
    readonly code: ChordErrorCode;
    toJSON(): { name: 'ChordError'; code: ChordErrorCode; message: string };
    static from(e: unknown): ChordError;
}

/** Where a model comes from. A string is a URL in browsers; in Node a path unless it has a scheme. */
export type ModelSource = string | URL | Blob | File | ArrayBuffer | SharedArrayBuffer | ArrayBufferView | RegionsSource;

/** A model held in several ArrayBuffers (each 1 byte to 2 GiB), in file order. ArrayBuffers are
 *  transferred to the engine's worker (detached here); SharedArrayBuffers are shared. */
export interface RegionsSource {
    regions: (ArrayBuffer | SharedArrayBuffer)[];
    name?: string;
}

/** Where the engine's read import finds the bytes (docs/MEMORY64.md, "Host stores"). */
export type StoreKind = 'regions' | 'blob' | 'opfs' | 'range' | 'path';

export interface LoadProgress {
    /** Bytes read so far. */
    loaded: number;
    /** File size in bytes, or null when the server did not say. */
    total: number | null;
    /** With a store: 'download' (filling regions or the OPFS cache), 'load' (the engine reading). */
    phase?: 'download' | 'load';
}

export type BuildChoice = 'auto' | 'wasm32' | 'wasm64';

export interface LoadOptions {
    /** Called as bytes arrive. */
    onProgress?: (p: LoadProgress) => void;
    /** Engine threads on one shared memory (default: cores, at most 8). Browsers without
     *  crossOriginIsolated always use 1. */
    threads?: number;
    /** 'auto' (default): wasm32 when model + KV cache + scratch fit 4 GiB, else wasm64 when the
     *  engine has Memory64, else a ChordError 'nomem' before anything large is allocated. */
    build?: BuildChoice;
    /** Aborts the load (ChordError 'cancelled'). */
    signal?: AbortSignal;
    /** Context length in tokens; 0 (default) = min(trained context, 4096). */
    nCtx?: number;
    /** Prompt tokens per forward pass; 0 (default) = the engine's default (64). */
    nBatch?: number;
    /** URL or directory of the .wasm builds (default: the package's wasm/, else build/wasm/). */
    wasmBase?: string | URL;
    /** false: never use the relaxed-SIMD build; 'auto' (default): when the engine has relaxed SIMD
     *  (Node 20: the package turns on V8's --experimental-wasm-relaxed-simd for the process). */
    relaxed?: boolean | 'auto';
    /** Cap of the engine's shared memory in bytes. */
    maxMemoryBytes?: number;
    /** Read the model through a host store instead of streaming it in: 'regions' (ArrayBuffers of
     *  at most regionBytes, filled once from any source), 'blob' (File/Blob by slices), 'opfs' (a
     *  URL downloaded once into the Origin Private File System, resumable, then no network),
     *  'range' (a URL by HTTP Range requests), 'path' (Node: positioned reads of a file). */
    store?: StoreKind;
    /** Where the weights live: 'auto' (default; store loads page when resident does not fit
     *  wasm32, wasm64 or memoryBudget), 'resident', 'paged' (layers in cacheLayers slots read
     *  through the store while generating; picks a store from the source when none is named). */
    residency?: 'auto' | 'resident' | 'paged';
    /** Paged: layer slots (0 = as many as memoryBudget allows). */
    cacheLayers?: number;
    /** Paged: layers read ahead while one computes, by a store worker straight into their slots (default 1; 0 = read when needed). */
    prefetch?: number;
    /** Paged: 'pin' (pin what fits, stream the rest; default) or 'lru'. */
    cachePolicy?: 'pin' | 'lru';
    /** Bytes the model may use (weights + KV cache + scratch); 0 = the build's address space. */
    memoryBudget?: number;
    /** Region size for store 'regions' (default 1 GiB, at most 2 GiB). */
    regionBytes?: number;
    /** Test hook: the model buffer starts at or above this wasm address (e.g. past 4 GiB in a
     *  wasm64 engine, so a small model's weights sit above the mark). */
    weightsAbove?: number;
    /** Staging buffer size of a streamed load (default 8 MiB, 4 KiB to 256 MiB); the load uses
     *  at most 4 of them (ModelInfo.load). */
    loadChunkBytes?: number;
    /** A read that brings no byte for this long (ms) is cancelled and fails the load, or the
     *  generate of a paged model, with ChordError('io') naming the source and byte; a File slice
     *  is read once more first. Default 30000 for a File/Blob, 60000 for a URL; 0: no limit. */
    stallTimeoutMs?: number;
    /** Extra fetch options for URL sources. */
    headers?: Record<string, string>;
    credentials?: RequestCredentials;
}

export interface GenerateOptions {
    /** Tokens to generate at most (default 256). */
    maxTokens?: number;
    /** 0 = greedy (default 0.8). */
    temperature?: number;
    /** 0 = off (default 40). */
    topK?: number;
    /** 1 = off (default 0.95). */
    topP?: number;
    /** 0 = off (default 0.05). */
    minP?: number;
    /** 1 = off (default 1). */
    repeatPenalty?: number;
    /** Window of the repetition penalty (default 64). */
    repeatLastN?: number;
    /** Sampling seed (default 0). */
    seed?: number;
    /** Never stop at end-of-generation tokens. */
    ignoreEos?: boolean;
    /** Add BOS (as the model's metadata asks) before a text prompt (default true). */
    addSpecial?: boolean;
    /** Match special-token text inside the prompt (default false). */
    parseSpecial?: boolean;
    /** Record the K largest logits of the first generated position in lastGeneration. */
    logitsTop?: number;
    /** Stops generation before the next token; the loop throws ChordError 'cancelled' and the
     *  model stays usable. */
    signal?: AbortSignal;
    /** Called with model.liveStats each time it changes while this generation runs: after every
     *  layer of the prompt's prefill (with `prefill` set) and after every token. */
    onLive?: (live: LiveStats) => void;
}

export interface LiveStats {
    cache: CacheStats;
    memoryBytes: number;
    heapUsed: number;
    /** Tokens generated so far. */
    tokens: number;
    /** During the prompt's prefill: tokens fed before this batch, the batch's tokens, the
     *  prompt's tokens, and the layer just finished (0-based) of nLayer. */
    prefill?: { done: number; batch: number; total: number; layer: number; nLayer: number };
}

export interface Piece {
    /** Token id (-1 for trailing bytes flushed at the end without a token of their own). */
    token: number;
    /** The complete UTF-8 text this token finished (may be ''). */
    text: string;
}

export interface GenerationStats {
    load_ms: number;
    prefill_ms: number;
    decode_ms: number;
    n_prefill: number;
    n_decode: number;
    prefill_tok_s: number;
    decode_tok_s: number;
    weight_bytes: number;
    peak_memory_bytes: number;
}

export interface GenerationResult {
    /** 'ok' (max tokens or end of generation), 'cancelled', 'range' (context full) or 'error'. */
    status: 'ok' | 'cancelled' | 'range' | 'error';
    promptTokens: number[] | null;
    /** Every token the engine generated (including any not yet consumed when it stopped). */
    tokens: number[];
    stats: GenerationStats | null;
    /** With generate({ logitsTop: K }): [id, logit] pairs, highest first. */
    firstTopLogits?: Array<[number, number]>;
    /** After chat(): the prompt text the chat template rendered. */
    rendered?: string;
    /** After chat(): prompt tokens that came from the KV cache (not prefilled again). */
    reusedTokens?: number;
}

export interface ChatMessage {
    role: string;
    content: string | null | Array<{ type: 'text'; text: string }>;
    [key: string]: unknown;
}

export interface ChatOptions extends GenerateOptions {
    /** A Jinja chat template to use instead of the model's tokenizer.chat_template. */
    template?: string;
    /** Extra template variables (e.g. { date_string: '1 Dec 2026' }). */
    templateVars?: Record<string, unknown>;
    /** Tool definitions, passed to the template as `tools`. */
    tools?: unknown[];
    /** Default true: end the prompt with the assistant's turn header. */
    addGenerationPrompt?: boolean;
}

export interface ModelSizes {
    fileBytes: number;
    weightBytes: number;
    nParams: number;
    nVocab: number;
    nCtxTrain: number;
    /** Context length of the session. */
    nCtx: number;
    nEmbd: number;
    nLayer: number;
    nHead: number;
    nHeadKv: number;
    nFf: number;
    /** Size of the engine's wasm memory after loading. */
    memoryBytes: number;
    /** The budget estimate loadModel checked. */
    estimatedBytes: number;
    /** Wasm address of the model buffer of a streamed load (null when the engine read it itself). */
    modelAddress: number | null;
}

export interface ModelInfo {
    architecture: string;
    name: string;
    /** GGUF metadata, values rendered as short text (long arrays abbreviated). */
    metadata: Readonly<Record<string, string>>;
    sizes: Readonly<ModelSizes>;
    bos: number;
    eos: number;
    ropeTheta: number;
    /** tokenizer.chat_template in full (metadata values are abbreviated), or null. */
    chatTemplate: string | null;
    /** Which build runs. */
    build: 'wasm32' | 'wasm64';
    wasmFile: string;
    simd: 'simd128' | 'relaxed' | null;
    threads: number;
    loadMs: number;
    source: { kind: 'url' | 'blob' | 'bytes' | 'path' | StoreKind; name: string };
    /** The host store the model was read through, or null for a streamed load. read: 'host' =
     *  through the engine's read import (synchronous store reads), 'copy' = store reads copied in
     *  (hosts without a synchronous read: Node's Blob and Range). */
    store: {
        kind: StoreKind; read: 'host' | 'copy'; regions: number | null;
        /** opfs: true = loaded from a complete cached copy with no request; false = downloaded. */
        cached: boolean | null; resumedFrom: number | null; fetched: number | null;
    } | null;
    /** Which path runs and why; paged: whether a store worker reads the next layers' slots while
     *  one computes ('async') or layers are read when needed ('on-demand', prefetchWhy says why). */
    path: { residency: 'resident' | 'paged'; why: string | null; prefetch: 'async' | 'on-demand' | null;
        prefetchWhy: string | null };
    /** A streamed load's buffers (null for a load through a store): the file went through
     *  stagingBuffers reused buffers of chunkBytes (at most 4, however many chunks), at most
     *  maxInFlightBytes of them in the worker at once; byob = read straight into them;
     *  unpooledBytes = bytes that first landed in a buffer of their own (a stream without BYOB);
     *  readsInFlight = fills of a File/Blob at once; stallRetries = File reads that brought no
     *  byte for stallTimeoutMs and were made again; phases = where the load's time went (ms). */
    load: { chunks: number; chunkBytes: number; stagingBuffers: number; stagingBytes: number; maxInFlightBytes: number;
        byob: boolean; unpooledBytes: number; readsInFlight: number; stallRetries: number;
        phases: Record<string, number> } | null;
    raw: Readonly<Record<string, unknown>>;
}

export interface Model {
    readonly info: ModelInfo;
    /** Details of the last finished generate(). */
    readonly lastGeneration: GenerationResult | null;
    /** The engine's counters while a generation runs (cacheStats() is busy then): after every
     *  layer of the prompt's prefill and after every generated token; null before the first. */
    readonly liveStats: LiveStats | null;
    tokenize(text: string, opts?: { addSpecial?: boolean; parseSpecial?: boolean }): Promise<Int32Array>;
    detokenize(tokens: ArrayLike<number>): Promise<string>;
    /** Nothing starts before the first next(); while it runs, other calls fail with 'busy'. */
    generate(prompt: string | ArrayLike<number>, opts?: GenerateOptions): AsyncIterableIterator<Piece>;
    /** The answer to a conversation (the whole conversation each turn), through the chat template;
     * the KV cache is reused across calls, so a turn prefills only its new tokens. Same lease
     * rules as generate(). */
    chat(messages: ChatMessage[], opts?: ChatOptions): AsyncIterableIterator<Piece>;
    /** Layer cache counters (chord_model_cache_stats). */
    cacheStats(): Promise<CacheStats>;
    /** Fills every slot (every layer when all fit). */
    preload(): Promise<void>;
    /** Drops cached layers that are not pinned. */
    clearCache(): Promise<void>;
    /** Frees the model and stops its worker. Safe to call twice. */
    dispose(): Promise<void>;
}

export interface CacheStats {
    policy: 'resident' | 'paged-pin' | 'paged-lru'; n_layer: number; slots: number; pinned: number;
    hits: number; misses: number; prefetch_hits: number; evictions: number; bytes_read: number;
    read_ms: number; stall_ms: number; resident_bytes: number;
    /** With the async prefetch: the store worker's reads into slots (done, bytes, ms, failed, cancelled). */
    async_reads?: number; async_bytes?: number; async_read_ms?: number; async_failed?: number; async_cancelled?: number;
    /** Paged from a store: buffers it made for staging (1 for Blob/Range: every piece is read into
     *  it), bytes that came in a buffer made for that read alone (FileReaderSync, a synchronous
     *  XHR: pages that are not crossOriginIsolated), pieces read. */
    store_staging_buffers?: number; store_unpooled_bytes?: number; store_pieces?: number;
    /** Paged from OPFS: times the cached file was opened again after its sync access handle was
     *  closed under the store (the next read after that heals it; see docs/MEMORY64.md). */
    store_reopened?: number;
}

export function loadModel(source: ModelSource, opts?: LoadOptions): Promise<Model>;

/** The OPFS model cache (store 'opfs'); works on any thread of a browser with OPFS. */
export interface CacheStatus { url: string; key: string; cached: boolean; bytes: number; size: number | null; inUse: boolean }
export function cacheStatus(url: string): Promise<CacheStatus>;
/** Deletes the cached copy (complete or partial); true when there was one. */
export function cacheDelete(url: string): Promise<boolean>;
export function cacheList(): Promise<{ url: string; key: string; size: number | null; complete: boolean }[]>;

/** Address-space limit of each build on this host, in bytes. */
export function memoryLimits(): { wasm32: number; wasm64: number };

/** One build's memory plan, computed by the C engine (chord_memory_plan_header, docs/MEMORY64.md). */
export interface MemoryPlan {
    nCtx: number;
    /** Weight bytes (the tensor data, used in place in wasm memory). */
    weights: number;
    /** The rest of the GGUF, copied into wasm memory with the weights. */
    fileCopy: number;
    /** Parsed metadata, tensor table and tokenizer. */
    model: number;
    /** F16 K and V cache. */
    kvCache: number;
    scratch: number;
    fixed: number;
    total: number;
}

/** 'wasm32' or 'wasm64' for the engine's plan of both builds, or a ChordError ('nomem' / 'unsupported'). */
export function chooseBuild(build: BuildChoice, plan: { wasm32: MemoryPlan; wasm64: MemoryPlan }): Promise<'wasm32' | 'wasm64'>;

/** The class behind the Model interface (instances come from loadModel). */
export declare const Model: { prototype: Model };
