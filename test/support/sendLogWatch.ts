/**
 * Watches a budget's send log (sendWindow.ts) while a scenario runs and keeps every real send it saw,
 * with its score: the time Redis allowed it, by Redis's clock. The log keeps an entry for at least one
 * window, so polling every 100 ms sees each one. This judges the budget itself, apart from the
 * send-to-arrival jitter that the simulator's arrival times include on a loaded machine.
 */
import type { Redis } from 'ioredis';

export interface SendLogWatch {
  /** Stops watching; the send times seen (ms, Redis's clock), sorted. */
  stop(): Promise<number[]>;
}

export function watchSendLog(redis: Redis, key: string, everyMs = 100): SendLogWatch {
  const seen = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const flat = await redis.zrange(key, '0', '-1', 'WITHSCORES');
        for (let i = 0; i + 1 < flat.length; i += 2)
          if (!flat[i]!.startsWith('assumed:')) seen.set(flat[i]!, Number(flat[i + 1]));
      } catch {
        // Redis away (the failover): the entries it had are either replicated or lost with it.
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return [...seen.values()].sort((a, b) => a - b);
    },
  };
}
