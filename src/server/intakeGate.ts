/**
 * Admission to the expensive routes (POST /v1/rescans): at most `max` requests are parsed, validated
 * and enqueued at once; the others wait their turn without reading their bodies. Parsing, validating
 * and adding thousands of jobs is CPU work on the one event loop that also answers /healthz: a dozen
 * such requests at once kept the probe waiting for seconds (issue 10, point 11). Waiting costs nothing
 * but a socket; clients see a slower 202, not an error.
 */
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';

export class IntakeGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly held = new WeakSet<FastifyRequest>();

  constructor(readonly max: number) {}

  /** Route hooks: take a place before the body is read, give it back once answered or abandoned. */
  hooks(): Pick<RouteShorthandOptions, 'preParsing' | 'onResponse' | 'onRequestAbort'> {
    return {
      preParsing: async (req: FastifyRequest) => {
        if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
        else this.active++;
        this.held.add(req);
      },
      onResponse: async (req: FastifyRequest, _reply: FastifyReply) => this.release(req),
      onRequestAbort: async (req: FastifyRequest) => this.release(req),
    };
  }

  /** How many requests wait for a place. */
  get queued(): number {
    return this.waiting.length;
  }

  private release(req: FastifyRequest): void {
    if (!this.held.delete(req)) return;
    const next = this.waiting.shift();
    // The place passes straight to the next request (`active` stays as it is).
    if (next) next();
    else this.active--;
  }
}
