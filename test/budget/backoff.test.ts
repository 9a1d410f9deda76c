/** Retry delays (src/budget/backoff.ts): exponential with equal jitter, capped; pure, so tested with injected randomness. */
import { BACKOFF_TYPE, MAX_BACKOFF_MS, backoffDelay } from '../../src/budget/backoff';

/** The un-jittered delay for `attempt`: base * 2^(attempt-1), capped. */
const full = (attempt: number, base: number) => Math.min(MAX_BACKOFF_MS, base * 2 ** (attempt - 1));

/** A seeded generator (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('backoffDelay', () => {
  test('the backoff type name is stable (jobs in Redis carry it)', () => {
    expect(BACKOFF_TYPE).toBe('tcss-jitter');
    expect(MAX_BACKOFF_MS).toBe(600_000);
  });

  test('maps the draw onto the upper half of the delay: 0 -> half, 0.5 -> three quarters, ~1 -> full', () => {
    expect(backoffDelay(1, 1000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, () => 0.5)).toBe(750);
    expect(backoffDelay(1, 1000, () => 0.999999)).toBe(1000);
    expect(backoffDelay(3, 1000, () => 0)).toBe(2000);
    expect(backoffDelay(3, 1000, () => 0.5)).toBe(3000);
    expect(backoffDelay(4, 250, () => 0.25)).toBe(1250);
  });

  test('a higher draw never gives a shorter delay (the jitter is the draw, scaled to half the delay)', () => {
    for (const attempt of [1, 3, 8]) {
      let previous = -1;
      for (let r = 0; r < 1; r += 1 / 64) {
        const d = backoffDelay(attempt, 1000, () => r);
        expect(d).toBeGreaterThanOrEqual(previous);
        previous = d;
      }
    }
  });

  test('the jitter spreads retries over the whole upper half of the delay, evenly', () => {
    // Attempt 3 at base 1000: 4000 ms un-jittered, so delays in [2000, 4000].
    const random = seeded(42);
    const delays = Array.from({ length: 4000 }, () => backoffDelay(3, 1000, random));
    expect(Math.min(...delays)).toBeLessThan(2050);
    expect(Math.max(...delays)).toBeGreaterThan(3950);
    // Four equal bins of 500 ms each hold about a quarter (1000 ± 15 %; a fixed delay puts all in one).
    const bins = [0, 0, 0, 0];
    for (const d of delays) bins[Math.min(3, Math.floor((d - 2000) / 500))]!++;
    for (const n of bins) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  test('two workers retrying the same attempt do not march in step', () => {
    // Seeded differently, as two processes' Math.random are: their streams differ at almost every attempt.
    const a = seeded(7);
    const b = seeded(8);
    let same = 0;
    for (let attempt = 1; attempt <= 12; attempt++)
      if (backoffDelay(attempt, 1000, a) === backoffDelay(attempt, 1000, b)) same++;
    expect(same).toBeLessThanOrEqual(1);
    // And by default (Math.random): 50 delays of the same attempt take many values, not one.
    expect(new Set(Array.from({ length: 50 }, () => backoffDelay(5, 1000))).size).toBeGreaterThan(40);
  });

  test('every delay lies within [full/2, full]', () => {
    const random = seeded(42);
    for (const base of [1, 7, 100, 1000, 30_000]) {
      for (let attempt = 1; attempt <= 25; attempt++) {
        for (let i = 0; i < 20; i++) {
          const d = backoffDelay(attempt, base, random);
          const f = full(attempt, base);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(Math.floor(f / 2));
          expect(d).toBeLessThanOrEqual(f);
        }
      }
    }
  });

  test('with Math.random (the default) it stays in range too', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(2, 1000);
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });

  test('grows with the attempt for the same randomness until the cap', () => {
    for (const r of [0, 0.3, 0.999]) {
      let previous = 0;
      for (let attempt = 1; attempt <= 15; attempt++) {
        const d = backoffDelay(attempt, 1000, () => r);
        if (full(attempt, 1000) < MAX_BACKOFF_MS) expect(d).toBeGreaterThan(previous);
        else expect(d).toBeGreaterThanOrEqual(previous);
        previous = d;
      }
    }
    // Doubling: the lower bound of attempt n+1 is the upper bound of attempt n.
    expect(backoffDelay(5, 1000, () => 0)).toBe(backoffDelay(4, 1000, () => 0.9999999));
  });

  test('is capped at MAX_BACKOFF_MS, also for absurd attempts', () => {
    for (const attempt of [11, 20, 100, 2000]) {
      expect(backoffDelay(attempt, 1000, () => 0.9999999)).toBe(MAX_BACKOFF_MS);
      expect(backoffDelay(attempt, 1000, () => 0)).toBe(MAX_BACKOFF_MS / 2);
    }
    expect(backoffDelay(1, 3_600_000, () => 0.9999999)).toBe(MAX_BACKOFF_MS);
  });

  test('attempts below 1 are treated as the first', () => {
    expect(backoffDelay(0, 1000, () => 0.5)).toBe(750);
    expect(backoffDelay(-3, 1000, () => 0.5)).toBe(750);
  });
});
