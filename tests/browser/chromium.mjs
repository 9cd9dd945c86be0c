// chromium.mjs — starts Debian's Chromium (/usr/bin/chromium; never a downloaded browser) headless
// through playwright-core, with a fresh profile and no background traffic, for the browser tests
// and the browser bench. Also starts the COOP/COEP static server (tools/serve.mjs).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

// playwright-core is a dev dependency at the repository root (installed by scripts/setup.sh).
export function playwright() {
    const require = createRequire(path.join(repo, 'package.json'));
    return require('playwright-core');
}

/** → { context, page(), close() } on a fresh user-data-dir that is removed on close. A launch
 *  that times out is tried once more with a new profile: Chromium's start-up very rarely never
 *  finishes here (seen once in CI on 2026-12-02: 60 s with only the usual dbus complaints), and
 *  that says nothing about the code under test. */
export async function launch({ extraArgs = [] } = {}) {
    const { chromium } = playwright();
    let profile, context;
    for (let attempt = 1; ; attempt++) {
        profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chord-chromium-'));
        try {
            context = await chromium.launchPersistentContext(profile, {
                executablePath: CHROMIUM,
                headless: false, // the flag below selects the new headless mode explicitly
                args: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update',
                    '--disable-sync', '--no-first-run', '--disable-quic', '--disable-default-apps',
                    '--disable-extensions', '--no-default-browser-check', ...extraArgs],
                timeout: 60000,
            });
            break;
        } catch (e) {
            fs.rmSync(profile, { recursive: true, force: true });
            if (attempt === 2 || e?.name !== 'TimeoutError') throw e;
            console.error(`chromium.mjs: the browser did not start in 60 s (${e.message.split('\n')[0]}); trying once more`);
        }
    }
    return {
        context,
        profile,
        page: async () => context.pages()[0] ?? context.newPage(),
        close: async () => {
            await context.close().catch(() => {});
            fs.rmSync(profile, { recursive: true, force: true });
        },
    };
}

export async function startServer() {
    const { serve } = await import(path.join(repo, 'tools/serve.mjs'));
    return serve({ port: 0 });
}

/** Peak resident memory (VmHWM, bytes) of this browser's renderer processes: the page and its
 *  workers live in one renderer, so this is the memory a model run cost. */
export function rendererPeakRss(profile) {
    let peak = 0;
    for (const pid of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
            if (!cmd.includes('--type=renderer') || !cmd.includes(profile)) continue;
            const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
            if (m) peak = Math.max(peak, Number(m[1]) * 1024);
        } catch { /* process ended */ }
    }
    return peak;
}

/** Memory of this browser right now: `sum` = summed RSS of all its processes (browser, GPU,
 *  network, renderer…: each has the profile directory on its command line), `renderer` = the
 *  renderers' peak (VmHWM), `rendererRss` = the largest renderer's RSS now. Sample it
 *  periodically for a peak of the sum. */
export function browserRss(profile) {
    let sum = 0, renderer = 0, rendererRss = 0;
    for (const pid of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
            if (!cmd.includes(profile)) continue;
            const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
            const rss = Number(/VmRSS:\s+(\d+) kB/.exec(st)?.[1] ?? 0) * 1024;
            sum += rss;
            if (cmd.includes('--type=renderer')) {
                renderer = Math.max(renderer, Number(/VmHWM:\s+(\d+) kB/.exec(st)?.[1] ?? 0) * 1024);
                rendererRss = Math.max(rendererRss, rss);
            }
        } catch { /* the process ended */ }
    }
    return { sum, renderer, rendererRss };
}

/** Samples browserRss every `ms` → { stop() → { peakSum, peakRenderer } }. resetPeaks: clear
 *  the processes' VmHWM first (/proc/PID/clear_refs), so the peaks start from now. */
export function sampleMemory(profile, ms = 250, { resetPeaks = false } = {}) {
    if (resetPeaks) {
        for (const pid of fs.readdirSync('/proc')) {
            if (!/^\d+$/.test(pid)) continue;
            try {
                if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(profile)) fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
            } catch { /* the process ended */ }
        }
    }
    let peakSum = 0, peakRenderer = 0;
    const sample = () => { const r = browserRss(profile); peakSum = Math.max(peakSum, r.sum); peakRenderer = Math.max(peakRenderer, r.renderer); };
    const timer = setInterval(sample, ms);
    return { stop: () => { sample(); clearInterval(timer); return { peakSum, peakRenderer }; } };
}
