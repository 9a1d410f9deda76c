/** GET /metrics: the Prometheus registry of promMetrics.ts, with the shared budget's rate when it is known. */
import type { FastifyPluginAsync } from 'fastify';
import { readBudgetRate } from '../../budget';
import { createCredentials } from '../../tcss/credentials';
import { learnBudgetIdentity } from '../../tcss/identity';
import { budgetIdFrom } from '../../tcss/scanBudget';
import type { ServerDeps } from '../deps';
import { createPromRegistry } from '../promMetrics';

export const metricsRoute: FastifyPluginAsync<ServerDeps> = (app, { config: cfg, logger, producer, redis }) => {
  // The workers' budget is keyed by the caller identity (tcss/identity.ts): learned here the same way,
  // once, on the first scrape. Without credentials of any kind there is no budget to show.
  const hasCredentials = cfg.tcss.credentials !== undefined || !['env', 'demo'].includes(cfg.tcss.credentialSource);
  let budgetKey: Promise<string> | undefined;
  const currentBudgetId = () =>
    (budgetKey ??= learnBudgetIdentity(cfg.tcss, createCredentials(cfg.tcss), logger).then((id) =>
      budgetIdFrom(cfg, id.key),
    ));
  const registry = createPromRegistry({
    queue: producer.queue,
    redis,
    ...(hasCredentials
      ? { currentRate: async () => readBudgetRate(redis, await currentBudgetId(), cfg.tcss.rateLimit) }
      : {}),
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('Content-Type', registry.contentType);
    return registry.metrics();
  });
  return Promise.resolve();
};
