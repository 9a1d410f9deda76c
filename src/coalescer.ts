/**
 * Coalescing: jobs that wait at the same moment for the same (policyItemId, assetType) share one call.
 *
 * A group opens when a job arrives with no open group for its key. After `windowMs` (a short wait for
 * company) the group asks the shared budget for a slot; until the slot comes, more jobs for the same key
 * keep joining, so with a backlog merging costs no time at all: jobs join while they would wait for the
 * budget anyway. The group closes when its call is about to leave (the runner calls `group.close()`),
 * or when it holds `maxAssets` unique asset ids. Its one outcome (a record, or an error) is handed to
 * every member.
 *
 * States of a group: open (accepting) -> closed (call leaving or full; no more members) -> settled.
 * Only the coalescer changes a group's state.
 */

export interface Member<T> {
  assetIds: readonly number[];
  payload: T;
}

/** A group as its runner sees it. */
export interface Group<T> {
  readonly key: string;
  /** Grows while the group is open. */
  readonly members: readonly Member<T>[];
  /** Unique asset ids of all members, in order of arrival. */
  readonly assetIds: readonly number[];
  /** No more members once true. */
  readonly closed: boolean;
  /** The call is about to leave: no more members (the runner calls it right before the call leaves). */
  close(): void;
}

export interface CoalescerOptions<T, R> {
  /** Most unique asset ids per group (TCSS_MAX_ASSETS_PER_CALL). */
  maxAssets: number;
  /** How long a new group waits for company before asking for a slot, ms. 0: ask at once. */
  windowMs: number;
  /** Off: every job is its own group (one call per job). */
  enabled: boolean;
  /** Runs the group's call; calls `group.close()` right before the call leaves (members join until then). */
  run: (group: Group<T>) => Promise<R>;
}

interface PendingGroup<T, R> {
  key: string;
  members: Member<T>[];
  assetIds: number[];
  assetSet: Set<number>;
  closed: boolean;
  waiters: { resolve: (r: R) => void; reject: (e: unknown) => void }[];
}

export class Coalescer<T, R> {
  /** The open group of each key (at most one). */
  private readonly open = new Map<string, PendingGroup<T, R>>();

  constructor(private readonly o: CoalescerOptions<T, R>) {}

  /** Adds a job to a group for `key` and resolves with that group's outcome. */
  submit(key: string, member: Member<T>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let group = this.o.enabled ? this.open.get(key) : undefined;
      if (group && (group.closed || !this.fits(group, member))) {
        // Full for this member: close it (it will leave with what it has) and start another.
        this.close(group);
        group = undefined;
      }
      if (!group) group = this.start(key);
      group.members.push(member);
      for (const id of member.assetIds) {
        if (!group.assetSet.has(id)) {
          group.assetSet.add(id);
          group.assetIds.push(id);
        }
      }
      group.waiters.push({ resolve, reject });
      if (!this.o.enabled || group.assetSet.size >= this.o.maxAssets) this.close(group);
    });
  }

  private fits(group: PendingGroup<T, R>, member: Member<T>): boolean {
    let added = 0;
    for (const id of member.assetIds) if (!group.assetSet.has(id)) added++;
    // A member larger than the limit on its own still gets a group (alone): never refuse a job here.
    return group.assetSet.size + added <= this.o.maxAssets;
  }

  private start(key: string): PendingGroup<T, R> {
    const group: PendingGroup<T, R> = {
      key,
      members: [],
      assetIds: [],
      assetSet: new Set(),
      closed: false,
      waiters: [],
    };
    if (this.o.enabled) this.open.set(key, group);
    const view: Group<T> = {
      key,
      members: group.members,
      assetIds: group.assetIds,
      get closed() {
        return group.closed;
      },
      close: () => this.close(group),
    };
    const go = () => {
      this.o.run(view).then(
        (r) => {
          this.close(group);
          for (const w of group.waiters) w.resolve(r);
        },
        (e: unknown) => {
          this.close(group);
          for (const w of group.waiters) w.reject(e);
        },
      );
    };
    // Let the members of the same moment (the same tick at least) join before the group asks for a slot.
    setTimeout(go, this.o.enabled ? this.o.windowMs : 0);
    return group;
  }

  private close(group: PendingGroup<T, R>): void {
    group.closed = true;
    if (this.open.get(group.key) === group) this.open.delete(group.key);
  }
}
