import { createRequire } from 'node:module';
import type CliProgress from 'cli-progress';

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'json' | 'none';

export interface ProgressEvent {
  phase: string;
  done: number;
  total: number;
  /** Extra figures shown beside the bar. */
  detail?: Record<string, number>;
}

export interface ProgressReporter {
  update(e: ProgressEvent): void;
  stop(): void;
}

/**
 * Progress on stderr, so stdout stays clean for --json: a bar with rate and ETA on a terminal,
 * a line every few seconds in logs, JSON events for programs driving the CLI.
 */
export function createProgress(mode: ProgressMode, unit = 'images'): ProgressReporter {
  const resolved = mode === 'auto' ? (process.stderr.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'none') return { update() {}, stop() {} };
  if (resolved === 'json') {
    return {
      update: (e) => process.stderr.write(`${JSON.stringify({ progress: e })}\n`),
      stop() {},
    };
  }
  if (resolved === 'lines') {
    let last = 0;
    const started = Date.now();
    return {
      update(e) {
        const now = Date.now();
        if (now - last < 5000 && e.done < e.total) return;
        last = now;
        const rate = e.done / Math.max(0.001, (now - started) / 1000);
        process.stderr.write(`[${e.phase}] ${e.done}/${e.total} ${unit} (${rate.toFixed(1)}/s)\n`);
      },
      stop() {},
    };
  }
  // Loaded only when a bar is drawn: logs, JSON and quiet runs start faster without it.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
  const bar = new cliProgress.SingleBar(
    {
      format: '{phase} |{bar}| {percentage}% {value}/{total} ' + unit + ' | {rate}/s | ETA {eta_formatted} {detail}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const t0 = Date.now();
  return {
    update(e) {
      const rate = (e.done / Math.max(0.001, (Date.now() - t0) / 1000)).toFixed(1);
      const detail = Object.entries(e.detail ?? {})
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      const payload = { phase: e.phase.padEnd(9), rate, detail };
      if (!started) {
        bar.start(Math.max(1, e.total), e.done, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(1, e.total));
        bar.update(e.done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
