import type { EvaluateProgress, ProgressPort } from '../engine/options.js';

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** The progress line: files opened of those listed, bytes hashed, and the rule still running; cut to the width. */
export function renderProgress(p: EvaluateProgress, width: number): string {
  const parts = [
    p.rulesTotal === 0 ? 'listing files…' : `${p.filesRead}/${p.filesTotal} files`,
    ...(p.bytesHashed > 0 ? [`${bytes(p.bytesHashed)} hashed`] : []),
    ...(p.rulesTotal > 0 ? [`rules ${p.rulesDone}/${p.rulesTotal}`] : []),
    ...(p.running.length > 0 ? [`${p.running[0]}${p.running.length > 1 ? ` +${p.running.length - 1}` : ''}`] : []),
  ];
  const line = `mlgate: ${parts.join(' · ')}`;
  const chars = [...line];
  return chars.length < width ? line : `${chars.slice(0, Math.max(1, width - 2)).join('')}…`;
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export interface ProgressTimers {
  setTimeout(fn: () => void, ms: number): { unref?(): unknown };
  setInterval(fn: () => void, ms: number): { unref?(): unknown };
  clear(handle: unknown): void;
}

const realTimers: ProgressTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clear: (h) => {
    clearTimeout(h as NodeJS.Timeout);
    clearInterval(h as NodeJS.Timeout);
  },
};

/**
 * A progress line on a terminal's stderr for runs that last: nothing for the
 * first `delayMs` (most runs end before), then the line redrawn in place, and
 * erased when the run ends. Nothing at all when the stream is not a terminal,
 * so logs, pipes and machine-read reports never see it.
 */
export function terminalProgress(stream: ProgressStream, opts: { delayMs?: number; everyMs?: number; timers?: ProgressTimers } = {}): ProgressPort | undefined {
  if (!stream.isTTY) return undefined;
  const timers = opts.timers ?? realTimers;
  let poll: (() => EvaluateProgress) | undefined;
  let delay: unknown;
  let tick: unknown;
  let drawn = false;
  const draw = () => {
    if (!poll) return;
    // A pseudo-terminal may report 0 columns (script, some CI runners): then the usual 80.
    const width = stream.columns !== undefined && stream.columns >= 20 ? stream.columns : 80;
    stream.write(`\r\u001b[2K${renderProgress(poll(), width)}`);
    drawn = true;
  };
  return {
    start(p) {
      poll = p;
      const d = timers.setTimeout(() => {
        draw();
        const t = timers.setInterval(draw, opts.everyMs ?? 200);
        t.unref?.();
        tick = t;
      }, opts.delayMs ?? 2000);
      d.unref?.();
      delay = d;
    },
    stop() {
      timers.clear(delay);
      if (tick !== undefined) timers.clear(tick);
      poll = undefined;
      if (drawn) stream.write('\r\u001b[2K');
    },
  };
}
