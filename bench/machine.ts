/** The machine a run measured, as read at the time of the run. */
import os from 'node:os';
import type { Redis } from 'ioredis';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  redis: string;
  /** 1-minute load average when the run started (other work on the machine disturbs timing). */
  loadAverage: number;
}

export async function describeMachine(redis: Redis): Promise<Machine> {
  const info = await redis.info('server');
  const redisVersion = /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: redisVersion,
    loadAverage: os.loadavg()[0] ?? 0,
  };
}

/** Redis INFO memory `used_memory`, bytes. */
export async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}
