/** The queue dashboard (bull-board) at /dashboard; shows but cannot change with DASHBOARD_READ_ONLY (dashboardJobs.ts). */
import { createBullBoard } from '@bull-board/api';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyPluginAsync } from 'fastify';
import { dashboardAdapter } from '../dashboardJobs';
import type { ServerDeps } from '../deps';

export const dashboard: FastifyPluginAsync<ServerDeps> = async (app, { config: cfg, producer }) => {
  const board = new FastifyAdapter();
  board.setBasePath('/dashboard');
  createBullBoard({
    queues: [dashboardAdapter(producer.queue, cfg.server.dashboardReadOnly)],
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'tcss-rescan' } },
  });
  await app.register(board.registerPlugin(), { prefix: '/dashboard' });
};
