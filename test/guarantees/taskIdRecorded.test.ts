/**
 * README, Guarantees: "Every TaskId the API returned is recorded before its jobs complete", and the
 * record is written even when Redis has a blip between the API's answer and the record's write (the
 * worker waits for Redis and writes it then; it never completes the job without it, nor calls again).
 * End to end: a worker process (the built CLI), the simulator, and a redis-server of the test's own
 * (its order of commands is watched with MONITOR, it is made to refuse writes, and it is killed and
 * started again).
 */
import type { Job } from 'bullmq';
import type { RescanResult } from '../../src/job';
import { keys } from '../../src/keys';
import { RecordStore } from '../../src/records';
import { FaultEnv, sleep, until } from '../support/faultHarness';

jest.setTimeout(60_000);

function recordStore(env: FaultEnv): RecordStore {
  return new RecordStore(env.redis, { queueName: env.queueName, maxLen: 10_000, ttlSeconds: 3600 });
}

/** The one call the simulator answered with a TaskId for `policyItemId`, once it has arrived. */
function okCall(env: FaultEnv, policyItemId: number) {
  return env.sim.calls().find((c) => c.policyItemId === policyItemId && c.code === 'OK');
}

test("each job's record is written before the job completes, in the order Redis executed them; every TaskId answered is recorded", async () => {
  const env = await FaultEnv.start({ scenario: 'recorded before completion' });
  // Every command Redis executes, in its order, those run inside MULTI and Lua scripts included. Started
  // once this Redis is quiet (the queue has written its meta): ioredis takes a command executed between
  // MONITOR's OK and its switch to monitoring mode for a stray reply ("Command queue state error").
  await until(async () => (await env.redis.exists(env.producer.queue.toKey('meta'))) === 1, 5_000, "the queue's meta");
  const monitor = await env.redis.monitor();
  const monitorErrors: Error[] = [];
  monitor.on('error', (err: Error) => monitorErrors.push(err));
  const executed: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[]) => executed.push(args));
  try {
    const accepted = await env.enqueue([
      ...Array.from({ length: 8 }, (_, i) => ({ policyItemId: 1401, assetIds: [i + 1] })),
      ...Array.from({ length: 4 }, (_, i) => ({ policyItemId: 1402, assetIds: [i + 101] })),
    ]);
    const worker = env.startWorker();
    await env.waitForDrain(30_000);
    expect((await env.counts()).completed).toBe(accepted.length);
    expect(await worker.stop('SIGTERM')).toBe(0);
    await sleep(200); // the last commands' echoes on the monitor connection
    expect(monitorErrors.map((e) => e.message)).toEqual([]);

    // `<prefix><jobId>:<timestamp>` (src/keys.ts)
    const jobTaskPrefix = keys.jobTask(env.queueName, { id: '', timestamp: 0 }).replace(/:0$/, '');
    const completedKey = env.producer.queue.toKey('completed');
    const recordedAt = new Map<string, number>();
    const completedAt = new Map<string, number>();
    executed.forEach((args, i) => {
      const [command = '', key = ''] = args;
      if (command.toLowerCase() === 'set' && key.startsWith(jobTaskPrefix)) {
        const jobId = key.slice(jobTaskPrefix.length).split(':')[0]!;
        if (!recordedAt.has(jobId)) recordedAt.set(jobId, i);
      }
      // BullMQ's moveToFinished script: ZADD <completed> <finishedOn> <jobId>.
      if (command.toLowerCase() === 'zadd' && key === completedKey) completedAt.set(args[3]!, i);
    });
    for (const { id } of accepted) {
      expect({ id, recorded: recordedAt.has(id), completed: completedAt.has(id) }).toEqual({
        id,
        recorded: true,
        completed: true,
      });
      expect({ id, recordedBeforeCompleted: recordedAt.get(id)! < completedAt.get(id)! }).toEqual({
        id,
        recordedBeforeCompleted: true,
      });
    }
    // The calls merged jobs (so the check covered records written for several jobs at once).
    const ok = env.sim.calls().filter((c) => c.code === 'OK');
    expect(ok.length).toBeLessThan(accepted.length);
    // Every TaskId the API answered is in the stream, and each job's result is its call's record.
    const stream = (await recordStore(env).list({ limit: 1000 })).records;
    expect(stream.map((r) => r.taskId).sort()).toEqual(ok.map((c) => c.taskId).sort());
    for (const { id } of accepted) {
      const job = (await env.producer.queue.getJob(id)) as Job<unknown, RescanResult>;
      expect(stream.find((r) => r.taskId === job.returnvalue.taskId)?.jobIds).toContain(id);
    }
  } finally {
    monitor.disconnect();
    await env.close();
  }
});

test('Redis refuses writes when the answer comes: the worker writes the record once Redis takes writes again; the job completes with that TaskId and is not called again', async () => {
  // The answer takes 1.5 s: time to make Redis refuse writes after the call arrived, before its answer.
  const env = await FaultEnv.start({ scenario: 'record after refused writes', sim: { latencyMs: 1500 } });
  const admin = env.redis.duplicate();
  try {
    const [job] = await env.enqueue([{ policyItemId: 1403, assetIds: [9] }]);
    const worker = env.startWorker();
    const call = await until(() => okCall(env, 1403), 20_000, 'the call to arrive at the API', 20);
    // Every write refused (NOREPLICAS): the record cannot be written, nor the job completed.
    await admin.config('SET', 'min-replicas-to-write', '1');
    try {
      // After the answer (1.5 s after the arrival), the worker tried to record it and was refused.
      const refused = await worker.waitForLog(
        (l) => l.taskId === call.taskId && /could not record/.test(String(l.msg)),
        15_000,
      );
      expect(JSON.stringify(refused.err)).toMatch(/NOREPLICAS|EXECABORT/);
      expect(
        await recordStore(env).forJob({
          id: job!.id,
          timestamp: (await env.producer.queue.getJob(job!.id))!.timestamp,
        }),
      ).toBeUndefined();
      expect(await (await env.producer.queue.getJob(job!.id))!.getState()).toBe('active');
    } finally {
      await admin.config('SET', 'min-replicas-to-write', '0');
    }
    await env.waitForDrain(30_000);

    const done = (await env.producer.queue.getJob(job!.id)) as Job<unknown, RescanResult>;
    expect([await done.getState(), done.attemptsMade]).toEqual(['completed', 1]);
    expect(done.returnvalue).toMatchObject({ taskId: call.taskId, requestId: call.requestId });
    expect(await recordStore(env).forJob({ id: done.id!, timestamp: done.timestamp })).toMatchObject({
      taskId: call.taskId,
      requestId: call.requestId,
    });
    expect((await recordStore(env).list()).records.map((r) => r.taskId)).toEqual([call.taskId]);
    // One call: the answered TaskId was kept, not thrown away and asked for again.
    expect(
      env.sim
        .calls()
        .filter((c) => c.code !== 'RequestLimitExceeded')
        .map((c) => c.taskId),
    ).toEqual([call.taskId]);
    expect(await worker.stop('SIGTERM')).toBe(0);
  } finally {
    admin.disconnect();
    await env.close();
  }
});

// What this one pins is the outcome, not a code path: the answer waits for Redis first in the shared
// budget (Bottleneck releases the call's slot through Redis before it hands the answer back), then the
// record's write waits in the worker's connection. Breaking only the record's retries (and making that
// connection give up at once) left it green, as it should be; the refusal test above is the one that
// fails when the worker gives up on writing the record.
test('Redis killed while the call is out and started again after its answer (append-only): the record is written when it is back; the job completes with that TaskId and is not called again', async () => {
  const LATENCY_MS = 1000;
  const DOWN_MS = 2500;
  const env = await FaultEnv.start({
    scenario: 'record after restart',
    appendonly: true,
    sim: { latencyMs: LATENCY_MS },
  });
  try {
    const [job] = await env.enqueue([{ policyItemId: 1404, assetIds: [11] }]);
    const worker = env.startWorker();
    const call = await until(() => okCall(env, 1404), 20_000, 'the call to arrive at the API', 20);
    const seenAt = Date.now();
    process.kill(env.redisServer.pid, 'SIGKILL');
    // Down before the answer left the simulator (LATENCY_MS after the arrival), and until well after.
    expect(Date.now() - seenAt).toBeLessThan(LATENCY_MS / 2);
    await sleep(DOWN_MS);
    await env.redisServer.restart();
    await env.waitForDrain(30_000);

    const done = (await env.producer.queue.getJob(job!.id)) as Job<unknown, RescanResult>;
    expect([await done.getState(), done.attemptsMade]).toEqual(['completed', 1]);
    expect(done.returnvalue).toMatchObject({ taskId: call.taskId, requestId: call.requestId });
    expect(await recordStore(env).forJob({ id: done.id!, timestamp: done.timestamp })).toMatchObject({
      taskId: call.taskId,
    });
    expect((await recordStore(env).list()).records.map((r) => r.taskId)).toEqual([call.taskId]);
    expect(
      env.sim
        .calls()
        .filter((c) => c.code !== 'RequestLimitExceeded')
        .map((c) => c.taskId),
    ).toEqual([call.taskId]);
    expect(await worker.stop('SIGTERM')).toBe(0);
  } finally {
    await env.close();
  }
});
