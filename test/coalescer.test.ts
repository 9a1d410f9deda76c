/**
 * The coalescer (src/coalescer.ts) on jest's fake clock: how long a new group waits for company, who
 * joins it and until when, when a group is full, and that every member gets the group's one outcome.
 * Nothing here needs Redis or real time.
 */
import { Coalescer, type Group } from '../src/coalescer';

interface Run {
  group: Group<string>;
  /** Settles the group's call with its members' payloads (or an error). */
  finish: (err?: Error) => void;
}

/** A coalescer whose runner records each group and settles only when the test says so. */
function coalescer(opts: { windowMs?: number; maxAssets?: number; enabled?: boolean } = {}) {
  const runs: Run[] = [];
  const c = new Coalescer<string, string[]>({
    windowMs: opts.windowMs ?? 20,
    maxAssets: opts.maxAssets ?? 100,
    enabled: opts.enabled ?? true,
    run: (group) =>
      new Promise<string[]>((resolve, reject) => {
        runs.push({ group, finish: (err) => (err ? reject(err) : resolve(group.members.map((m) => m.payload))) });
      }),
  });
  return { c, runs };
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

test('a new group waits windowMs for company, then runs once with every member of that moment', async () => {
  const { c, runs } = coalescer({ windowMs: 20 });
  const a = c.submit('k', { assetIds: [1], payload: 'a' });
  jest.advanceTimersByTime(19);
  const b = c.submit('k', { assetIds: [2], payload: 'b' });
  expect(runs).toHaveLength(0);
  jest.advanceTimersByTime(1);
  expect(runs).toHaveLength(1);
  expect(runs[0]!.group.members.map((m) => m.payload)).toEqual(['a', 'b']);
  expect(runs[0]!.group.assetIds).toEqual([1, 2]);
  runs[0]!.finish();
  await expect(Promise.all([a, b])).resolves.toEqual([
    ['a', 'b'],
    ['a', 'b'],
  ]);
});

test('members keep joining after the window until the runner closes the group; later ones start a new group', async () => {
  const { c, runs } = coalescer({ windowMs: 10 });
  const a = c.submit('k', { assetIds: [1], payload: 'a' });
  jest.advanceTimersByTime(10);
  expect(runs).toHaveLength(1);
  // Still waiting for a budget slot: joins.
  const b = c.submit('k', { assetIds: [2], payload: 'b' });
  expect(runs[0]!.group.members).toHaveLength(2);
  runs[0]!.group.close();
  expect(runs[0]!.group.closed).toBe(true);
  const late = c.submit('k', { assetIds: [3], payload: 'late' });
  expect(runs[0]!.group.members).toHaveLength(2);
  jest.advanceTimersByTime(9);
  expect(runs).toHaveLength(1);
  jest.advanceTimersByTime(1);
  expect(runs).toHaveLength(2);
  expect(runs[1]!.group.members.map((m) => m.payload)).toEqual(['late']);
  runs[0]!.finish();
  runs[1]!.finish();
  await expect(Promise.all([a, b, late])).resolves.toEqual([['a', 'b'], ['a', 'b'], ['late']]);
});

test('other keys never share a group', () => {
  const { c, runs } = coalescer({ windowMs: 5 });
  void c.submit('k1', { assetIds: [1], payload: 'a' });
  void c.submit('k2', { assetIds: [1], payload: 'b' });
  jest.advanceTimersByTime(5);
  expect(runs.map((r) => [r.group.key, r.group.members.map((m) => m.payload)])).toEqual([
    ['k1', ['a']],
    ['k2', ['b']],
  ]);
});

test('a group closes when it holds maxAssets unique assets; a member that would not fit starts the next group', () => {
  const { c, runs } = coalescer({ windowMs: 5, maxAssets: 3 });
  void c.submit('k', { assetIds: [1, 2], payload: 'a' });
  void c.submit('k', { assetIds: [2], payload: 'dup' }); // adds nothing new: fits
  void c.submit('k', { assetIds: [3, 4], payload: 'b' }); // 4 unique: does not fit
  void c.submit('k', { assetIds: [5], payload: 'c' }); // fills the second group to 3: it closes
  void c.submit('k', { assetIds: [6], payload: 'd' });
  jest.advanceTimersByTime(5);
  expect(
    runs.map((r) => ({
      members: r.group.members.map((m) => m.payload),
      assets: r.group.assetIds,
      closed: r.group.closed,
    })),
  ).toEqual([
    { members: ['a', 'dup'], assets: [1, 2], closed: true },
    { members: ['b', 'c'], assets: [3, 4, 5], closed: true },
    { members: ['d'], assets: [6], closed: false },
  ]);
});

test('a member larger than maxAssets on its own still gets a group, alone', () => {
  const { c, runs } = coalescer({ windowMs: 5, maxAssets: 2 });
  void c.submit('k', { assetIds: [1, 2, 3], payload: 'big' });
  void c.submit('k', { assetIds: [4], payload: 'next' });
  jest.advanceTimersByTime(5);
  expect(runs.map((r) => r.group.members.map((m) => m.payload))).toEqual([['big'], ['next']]);
});

test('off: every job is its own group and runs on the next tick, without the window', () => {
  const { c, runs } = coalescer({ windowMs: 1000, enabled: false });
  void c.submit('k', { assetIds: [1], payload: 'a' });
  void c.submit('k', { assetIds: [2], payload: 'b' });
  expect(runs).toHaveLength(0);
  jest.advanceTimersByTime(0);
  expect(runs.map((r) => [r.group.members.map((m) => m.payload), r.group.closed])).toEqual([
    [['a'], true],
    [['b'], true],
  ]);
});

test("a group's error goes to every member, and the key takes new members in a new group", async () => {
  const { c, runs } = coalescer({ windowMs: 5 });
  const a = c.submit('k', { assetIds: [1], payload: 'a' });
  const b = c.submit('k', { assetIds: [2], payload: 'b' });
  jest.advanceTimersByTime(5);
  runs[0]!.finish(new Error('refused'));
  await expect(a).rejects.toThrow('refused');
  await expect(b).rejects.toThrow('refused');
  expect(runs[0]!.group.closed).toBe(true);
  void c.submit('k', { assetIds: [3], payload: 'c' });
  jest.advanceTimersByTime(5);
  expect(runs[1]!.group.members.map((m) => m.payload)).toEqual(['c']);
});

test('settled without the runner closing it: closed, and the next member starts a new group', async () => {
  const { c, runs } = coalescer({ windowMs: 5 });
  const a = c.submit('k', { assetIds: [1], payload: 'a' });
  jest.advanceTimersByTime(5);
  runs[0]!.finish();
  await a;
  expect(runs[0]!.group.closed).toBe(true);
  void c.submit('k', { assetIds: [2], payload: 'b' });
  expect(runs[0]!.group.members).toHaveLength(1);
  jest.advanceTimersByTime(5);
  expect(runs).toHaveLength(2);
});
